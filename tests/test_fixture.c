/* test_fixture.c - Criterion tests of the reference-fixture loader.
 *
 * Proves: a fixture written in the documented format reads back exactly
 * (%.17g text -> strtod is bit-exact for doubles, so the tolerance is 0);
 * asking for a missing name exits 65 naming it; a missing or corrupt file
 * exits 66 with a message naming the file and the script that regenerates
 * it; and every committed fixture loads, each tensor's value count matches
 * its shape, and every gradient has the shape of its parameter.
 * Leaves out: the models themselves (each model's tests compare against
 * its fixture). Run from the repository root (paths are relative to it).
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Helpers ------------------------------------------------------------- */

/* Writes `text` to a fresh file under /tmp; its path goes into `path`. */
static void write_tmp(char *path, size_t cap, const char *tag, const char *text)
{
    snprintf(path, cap, "/tmp/test_fixture_%s_%ld.txt", tag, (long)getpid());
    FILE *fp = fopen(path, "w");
    cr_assert(fp, "cannot create %s", path);
    fputs(text, fp);
    fclose(fp);
}

/* Runs fixture_load(path) (and, if `name`, fixture_get) in a child process
 * with stderr captured into msg[cap]; returns the child's exit status
 * (0 if it returned normally, -1 if it did not exit). */
static int load_in_child(const char *path, const char *name, char *msg, size_t cap)
{
    char errpath[128];
    snprintf(errpath, sizeof errpath, "/tmp/test_fixture_err_%ld.txt", (long)getpid());
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) {
        if (!freopen(errpath, "w", stderr)) _exit(99);
        Fixture *f = fixture_load(path);
        if (name) fixture_get(f, name);
        fixture_free(f);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    msg[0] = '\0';
    FILE *fp = fopen(errpath, "r");
    if (fp) {
        size_t n = fread(msg, 1, cap - 1, fp);
        msg[n] = '\0';
        fclose(fp);
    }
    remove(errpath);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- Round trip ---------------------------------------------------------- */

Test(fixture, round_trip_reads_back_every_value_exactly)
{
    /* Values as the PyTorch scripts write them (%.17g), with comments in
     * odd places and uneven line breaks; the tolerance is 0: strtod of a
     * %.17g string is the original double. */
    const double a[6] = { 0.1, -2.5, 1e-300, -0.0, 3.0000000000000004, 123456789.125 };
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "# a comment\n"
                     "tensor w 2 2 3\n"
                     "%.17g %.17g\n%.17g\n  %.17g %.17g %.17g\n"
                     "# between tensors\n"
                     "tensor idx 2 2 2\n7 0\n10 3\n"
                     "tensor scalar 1 1\n-1.5\n"
                     "tensor conv.weight 4 1 2 1 1\n0.25 -0.75  # trailing comment\n",
                     a[0], a[1], a[2], a[3], a[4], a[5]);
    cr_assert(n > 0 && (size_t)n < sizeof text);
    char path[128];
    write_tmp(path, sizeof path, "rt", text);

    Fixture *f = fixture_load(path);
    cr_assert_eq(f->n, 4, "tensor count %d, expected 4", f->n);

    const FixTensor *w = fixture_get(f, "w");
    cr_assert_eq(w->ndim, 2);
    cr_assert(w->shape[0] == 2 && w->shape[1] == 3 && w->size == 6,
              "w shape [%d,%d] size %ld", w->shape[0], w->shape[1], w->size);
    for (int i = 0; i < 6; i++)
        cr_assert(memcmp(&w->data[i], &a[i], sizeof(double)) == 0,
                  "w[%d] = %.17g, wrote %.17g (not bit-identical)", i, w->data[i], a[i]);

    const FixTensor *idx = fixture_get(f, "idx");
    const int want[4] = { 7, 0, 10, 3 };
    for (int i = 0; i < 4; i++)
        cr_assert_eq((int)idx->data[i], want[i], "idx[%d] = %g, wrote %d", i, idx->data[i], want[i]);

    const FixTensor *s = fixture_get(f, "scalar");
    cr_assert(s->ndim == 1 && s->shape[0] == 1 && s->data[0] == -1.5);

    const FixTensor *c = fixture_get(f, "conv.weight");
    cr_assert(c->ndim == 4 && c->shape[0] == 1 && c->shape[1] == 2 && c->shape[2] == 1 &&
              c->shape[3] == 1 && c->size == 2 && c->data[0] == 0.25 && c->data[1] == -0.75);

    fixture_free(f);
    remove(path);
}

/* ---- Errors -------------------------------------------------------------- */

Test(fixture, missing_name_exits_65_naming_it)
{
    char path[128], msg[2048];
    write_tmp(path, sizeof path, "mn", "tensor w 1 2\n1 2\n");
    int code = load_in_child(path, "grad.no_such_weight", msg, sizeof msg);
    remove(path);
    cr_assert_eq(code, 65, "exit status %d, expected 65; stderr: %s", code, msg);
    cr_assert(strstr(msg, "grad.no_such_weight"), "message does not name the tensor: %s", msg);
    cr_assert(strstr(msg, path), "message does not name the file: %s", msg);
}

Test(fixture, missing_file_exits_66_naming_file_and_script)
{
    char msg[2048];
    const char *path = "/tmp/test_fixture_does_not_exist/gpt.txt";
    int code = load_in_child(path, NULL, msg, sizeof msg);
    cr_assert_eq(code, 66, "exit status %d, expected 66; stderr: %s", code, msg);
    cr_assert(strstr(msg, path), "message does not name the file: %s", msg);
    cr_assert(strstr(msg, "/tmp/test_fixture_does_not_exist/gpt.py"),
              "message does not name the script to run: %s", msg);
}

/* Each corrupt file must be refused with exit 66 and a message naming it. */
Test(fixture, corrupt_files_exit_66_naming_the_file)
{
    static const struct { const char *what, *text; } bad[] = {
        { "empty",             "" },
        { "only comments",     "# nothing here\n" },
        { "too few values",    "tensor w 2 2 2\n1 2 3\n" },
        { "too many values",   "tensor w 1 2\n1 2 3\n" },
        { "not a number",      "tensor w 1 3\n1 x2 3\n" },
        { "number then junk",  "tensor w 1 2\n1 2.5e\n" },
        { "no header",         "1 2 3\n" },
        { "ndim 0",            "tensor w 0\n" },
        { "ndim 5",            "tensor w 5 1 1 1 1 1\n1\n" },
        { "dim missing",       "tensor w 2 3\n1 2 3\n" },
        { "dim zero",          "tensor w 1 0\n" },
        { "dim negative",      "tensor w 1 -2\n1 2\n" },
        { "name missing",      "tensor\n1 2\n" },
        { "duplicate name",    "tensor w 1 1\n1\ntensor w 1 1\n2\n" },
        { "truncated 2nd",     "tensor a 1 1\n1\ntensor b 2 2 2\n1 2\n" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[128], msg[2048];
        write_tmp(path, sizeof path, "bad", bad[i].text);
        int code = load_in_child(path, NULL, msg, sizeof msg);
        remove(path);
        cr_expect_eq(code, 66, "%s: exit status %d, expected 66; stderr: %s",
                     bad[i].what, code, msg);
        cr_expect(strstr(msg, path), "%s: message does not name the file: %s", bad[i].what, msg);
    }
}

/* ---- The committed fixtures ---------------------------------------------- */

/* Names each fixture must hold besides its weights (tests/reference/README.md). */
static const char *const gan_ring_names[] = {
    "z", "x", "fake", "d_real", "d_fake", "loss_d", "loss_g", "loss_g_sat", NULL };
static const char *const gan_images_names[] = {
    "z", "x", "fake", "d_real", "d_fake", "loss_d", "loss_g", NULL };
static const char *const vae_names[] = {
    "x", "eps", "mu", "logvar", "z", "logits", "recon", "kl", "loss", NULL };
static const char *const gpt_names[] = {
    "idx", "targets", "logits", "loss", "adamw_losses", "grad_norm", NULL };

static const struct {
    const char *file;
    const char *const *names;
    const char *const *grad_prefixes;   /* prefixes before a parameter's name */
} committed[] = {
    { FIXTURE_DIR "/gan_ring.txt",   gan_ring_names,
      (const char *const[]){ "grad.", "gradg.", "gradgsat.", NULL } },
    { FIXTURE_DIR "/gan_images.txt", gan_images_names,
      (const char *const[]){ "grad.", "gradg.", NULL } },
    { FIXTURE_DIR "/vae.txt",        vae_names, (const char *const[]){ "grad.", NULL } },
    { FIXTURE_DIR "/gpt.txt",        gpt_names, (const char *const[]){ "grad.", NULL } },
};

Test(fixture, every_committed_fixture_loads_with_counts_matching_shapes)
{
    for (size_t k = 0; k < sizeof committed / sizeof committed[0]; k++) {
        Fixture *f = fixture_load(committed[k].file);   /* exits 66 if missing/corrupt */
        cr_assert(f->n > 0, "%s: no tensors", committed[k].file);
        for (int i = 0; i < f->n; i++) {
            const FixTensor *t = &f->t[i];
            long prod = 1;
            for (int d = 0; d < t->ndim; d++) prod *= t->shape[d];
            cr_expect_eq(prod, t->size, "%s: tensor %s: shape product %ld != value count %ld",
                         committed[k].file, t->name, prod, t->size);
            for (long j = 0; j < t->size; j++)
                if (!isfinite(t->data[j])) {
                    cr_expect_fail("%s: tensor %s[%ld] = %g is not finite",
                                   committed[k].file, t->name, j, t->data[j]);
                    break;
                }
        }
        for (const char *const *nm = committed[k].names; *nm; nm++)
            fixture_get(f, *nm);                         /* exits 65 if missing */
        fixture_free(f);
    }
}

Test(fixture, every_committed_gradient_has_the_shape_of_its_parameter)
{
    for (size_t k = 0; k < sizeof committed / sizeof committed[0]; k++) {
        Fixture *f = fixture_load(committed[k].file);
        int ngrads = 0;
        for (int i = 0; i < f->n; i++) {
            const FixTensor *g = &f->t[i];
            for (const char *const *pre = committed[k].grad_prefixes; *pre; pre++) {
                size_t lp = strlen(*pre);
                if (strncmp(g->name, *pre, lp) != 0) continue;
                const FixTensor *p = fixture_get(f, g->name + lp);  /* the parameter */
                ngrads++;
                cr_expect(p->ndim == g->ndim &&
                          memcmp(p->shape, g->shape, sizeof p->shape) == 0,
                          "%s: %s and %s differ in shape", committed[k].file, g->name, p->name);
            }
        }
        cr_expect(ngrads > 0, "%s: holds no gradients", committed[k].file);
        fixture_free(f);
    }
}
