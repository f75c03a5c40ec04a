/* test_checkpoint.c - the checkpoint format: exact round trip, and every bad file refused.
 *
 * Proves: save then load restores every bit of every parameter (double
 * build, including -0, a subnormal and the largest double) and the meta line;
 * the bytes on disk follow the layout documented in checkpoint.h (checked
 * against this file's own FNV-1a); a float32 file loads into the double
 * build; a file cut at ANY byte is "truncated"; ANY single flipped byte is
 * refused; a wrong magic, a future version, a shape mismatch, a missing or an
 * extra parameter and a missing file each stop with the documented exit code
 * and a message naming the file and the cause; a failed load leaves the model
 * untouched. Run under ASan+UBSan (make sanitize) this also proves no bad
 * file makes the reader touch a byte outside the file.
 * Tolerance: 0 (bit-exact) everywhere; float32 -> double conversion is exact.
 * Files go to /tmp (named by pid) and are removed.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catch_fail.h"
#include "checkpoint.h"
#include "rng.h"

#define HINT "run `make 05` to train the model and write it"
#define META "mlp in=4 hidden=3 test"

/* ---- Helpers ------------------------------------------------------------------------ */

static char *tmp_path(char *buf, size_t len, const char *tag) {
    snprintf(buf, len, "/tmp/test_ckpt_%s_%ld.bin", tag, (long)getpid());
    return buf;
}

/* The test model: a 2-D weight, a 1-D bias, a 4-D conv kernel. fc1.weight
 * gets the special values; the rest random. `wshape` lets a test change it. */
static ParamSet *model(const int *wshape, int with_extra) {
    ParamSet *ps = params_new();
    params_add(ps, "fc1.weight", 2, wshape ? wshape : SHAPE(3, 4));
    params_add(ps, "fc1.bias", 1, SHAPE(3));
    params_add(ps, "conv.weight", 4, SHAPE(2, 1, 2, 2));
    if (with_extra) params_add(ps, "fc2.bias", 1, SHAPE(5));
    params_alloc(ps);
    return ps;
}

static void fill(ParamSet *ps, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    rng_fill_normal(&r, ps->data, ps->size, 0, 1);
    ps->data[0] = -0.0;
    ps->data[1] = (real)1e-310; /* subnormal in double */
    ps->data[2] = (real)DBL_MAX;
    ps->data[3] = (real)(1.0 / 3.0);
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    cr_assert(fread(b, 1, *n, f) == *n, "short read of %s", path);
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot create %s", path);
    cr_assert(fwrite(b, 1, n, f) == n, "short write of %s", path);
    fclose(f);
}

/* A valid checkpoint of model(NULL, 0), filled with seed 1; its bytes in *n. */
static unsigned char *good_file(const char *path, size_t *n) {
    ParamSet *ps = model(NULL, 0);
    fill(ps, 1);
    checkpoint_save(path, ps, META);
    params_free(ps);
    return read_all(path, n);
}

/* 1 if checkpoint_load failed (code and message in caught_*), 0 if it returned. */
static int load_fails(const char *path, ParamSet *ps) {
    CATCH_FAIL(checkpoint_load(path, ps, HINT));
    return caught_failed;
}

static int meta_fails(const char *path) {
    char buf[128];
    CATCH_FAIL(checkpoint_meta(path, buf, sizeof buf, HINT));
    return caught_failed;
}

/* Loading `path` into a fresh model must fail with `code`, a message naming
 * the file and containing `cause`; `label` says which case this is. */
static void expect_load_error(const char *label, const char *path, ParamSet *ps, int code, const char *cause) {
    ParamSet *own = ps ? NULL : model(NULL, 0);
    load_fails(path, ps ? ps : own);
    expect_caught(label, code, (const char *const[]){path, cause, NULL});
    if (own) params_free(own);
}

/* ---- The round trip ------------------------------------------------------------------- */

Test(checkpoint, round_trip_is_bit_exact_with_meta) {
    char path[128], meta[128];
    tmp_path(path, sizeof path, "rt");
    ParamSet *a = model(NULL, 0), *b = model(NULL, 0);
    fill(a, 1);
    checkpoint_save(path, a, META);
    cr_assert(!load_fails(path, b), "load failed: %s", caught_msg);
    for (long i = 0; i < a->size; i++)
        cr_assert(memcmp(&a->data[i], &b->data[i], sizeof(real)) == 0, "entry %ld: saved %.17g, loaded %.17g", i,
                  (double)a->data[i], (double)b->data[i]);
    cr_assert(b->data[0] == 0 && signbit(b->data[0]), "-0 lost its sign");
    cr_assert(strcmp(checkpoint_meta(path, meta, sizeof meta, HINT), META) == 0, "meta \"%s\", want \"%s\"", meta, META);
    /* a short buffer gets a NUL-terminated prefix */
    char small[5];
    cr_assert(strcmp(checkpoint_meta(path, small, sizeof small, HINT), "mlp ") == 0, "short meta buffer: \"%s\"", small);
    /* saving again over the file works (write to .tmp, then rename) */
    checkpoint_save(path, b, "");
    cr_assert(strcmp(checkpoint_meta(path, meta, sizeof meta, HINT), "") == 0, "empty meta read back as \"%s\"", meta);
    params_free(a);
    params_free(b);
    remove(path);
}

/* ---- The documented layout ---------------------------------------------------------------- */

static uint64_t fnv1a(const unsigned char *b, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint32_t u32_at(const unsigned char *b, size_t off) {
    return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 | (uint32_t)b[off + 3] << 24;
}

Test(checkpoint, file_layout_is_as_documented) {
    char path[128];
    size_t n;
    unsigned char *b = good_file(tmp_path(path, sizeof path, "layout"), &n);
    size_t ml = strlen(META);
    cr_assert(memcmp(b, "GENCKPT1", 8) == 0, "magic");
    cr_assert(u32_at(b, 8) == 1, "version %u, want 1", u32_at(b, 8));
    cr_assert(u32_at(b, 12) == sizeof(real), "bytes per number %u, want %zu", u32_at(b, 12), sizeof(real));
    cr_assert(u32_at(b, 16) == ml && memcmp(b + 20, META, ml) == 0, "meta");
    cr_assert(u32_at(b, 20 + ml) == 3, "tensor count %u, want 3", u32_at(b, 20 + ml));
    size_t off = 24 + ml;
    cr_assert(u32_at(b, off) == 10 && memcmp(b + off + 4, "fc1.weight", 10) == 0, "first tensor name");
    cr_assert(u32_at(b, off + 14) == 2 && u32_at(b, off + 18) == 3 && u32_at(b, off + 22) == 4, "fc1.weight shape");
    /* sizes: header 24+ml; fc1.weight 4+10+4+8+12r; fc1.bias 4+8+4+4+3r; conv.weight 4+11+4+16+8r; checksum 8 */
    size_t want = 24 + ml + (26 + 12 * sizeof(real)) + (20 + 3 * sizeof(real)) + (35 + 8 * sizeof(real)) + 8;
    cr_assert(n == want, "file is %zu bytes, the layout gives %zu", n, want);
    uint64_t stored;
    memcpy(&stored, b + n - 8, 8);
    cr_assert(stored == fnv1a(b, n - 8), "checksum is not FNV-1a 64 of the bytes before it");
    free(b);
    remove(path);
}

/* A hand-built version-1 file with float32 numbers: the double build loads it. */
Test(checkpoint, float32_file_loads_into_double_build) {
    char path[128];
    tmp_path(path, sizeof path, "f32");
    unsigned char b[256];
    size_t n = 0;
#define PUT(p, k) (memcpy(b + n, (p), (k)), n += (k))
#define PUT32(x) do { uint32_t v_ = (x); PUT(&v_, 4); } while (0)
    PUT("GENCKPT1", 8);
    PUT32(1);
    PUT32(4);
    PUT32(0);
    PUT32(1);
    PUT32(1);
    PUT("w", 1);
    PUT32(1);
    PUT32(3);
    const float v[3] = {0.1f, -2.5f, 3e-40f /* subnormal in float */};
    PUT(v, sizeof v);
    uint64_t h = fnv1a(b, n);
    PUT(&h, 8);
#undef PUT32
#undef PUT
    write_all(path, b, n);
    ParamSet *ps = params_new();
    Tensor *w = params_add(ps, "w", 1, SHAPE(3));
    params_alloc(ps);
    cr_assert(!load_fails(path, ps), "float32 file refused: %s", caught_msg);
    for (int i = 0; i < 3; i++)
        cr_assert(w->data[i] == (real)v[i], "entry %d: %.17g, want %.17g", i, (double)w->data[i], (double)v[i]);
    params_free(ps);
    remove(path);
}

/* ---- Bad files ---------------------------------------------------------------------------- */

Test(checkpoint, file_cut_at_any_byte_is_truncated) {
    /* Every cut point 0..n-1: inside the magic (4), the version (10), the
     * number size (14), the meta length (18), the meta, the count, a name
     * length, a name, the dims, the data, and the checksum. */
    char path[128], cut[128];
    size_t n;
    unsigned char *b = good_file(tmp_path(path, sizeof path, "full"), &n);
    tmp_path(cut, sizeof cut, "cut");
    for (size_t k = 0; k < n; k++) {
        write_all(cut, b, k);
        char label[64];
        snprintf(label, sizeof label, "cut at byte %zu of %zu", k, n);
        expect_load_error(label, cut, NULL, EXIT_DATA, "truncated");
        cr_assert(meta_fails(cut) && caught_code == EXIT_DATA, "%s: checkpoint_meta did not fail", label);
    }
    /* the message says where: a cut inside the meta length field */
    write_all(cut, b, 18);
    expect_load_error("cut in the meta length", cut, NULL, EXIT_DATA, "the meta length at byte 16 needs 4 bytes");
    free(b);
    remove(path);
    remove(cut);
}

Test(checkpoint, flipped_data_byte_is_damaged) {
    char path[128];
    size_t n;
    unsigned char *b = good_file(tmp_path(path, sizeof path, "flip"), &n);
    b[n - 8 - 5] ^= 0x10; /* inside conv.weight's last number */
    write_all(path, b, n);
    expect_load_error("flipped data byte", path, NULL, EXIT_DATA, "damaged: checksum mismatch");
    cr_assert(meta_fails(path) && strstr(caught_msg, "checksum"), "checkpoint_meta missed the damage: %s", caught_msg);
    free(b);
    remove(path);
}

Test(checkpoint, any_flipped_byte_is_refused) {
    /* Flip each byte in turn: the magic, version, sizes, lengths, names,
     * dims, data, checksum. Whatever the field, the load must stop with
     * EXIT_DATA (and, under ASan, never read outside the file). */
    char path[128], bad[128];
    size_t n;
    unsigned char *b = good_file(tmp_path(path, sizeof path, "full"), &n);
    tmp_path(bad, sizeof bad, "bad");
    for (size_t k = 0; k < n; k++) {
        b[k] ^= 0xA5;
        write_all(bad, b, n);
        b[k] ^= 0xA5;
        char label[64];
        snprintf(label, sizeof label, "byte %zu of %zu flipped", k, n);
        expect_load_error(label, bad, NULL, EXIT_DATA, "");
    }
    free(b);
    remove(path);
    remove(bad);
}

Test(checkpoint, wrong_magic_is_not_a_checkpoint) {
    char path[128];
    tmp_path(path, sizeof path, "magic");
    const char *text = "step\tloss\n1\t2.30\n";
    write_all(path, text, strlen(text));
    expect_load_error("a text file", path, NULL, EXIT_DATA, "not a checkpoint");
    /* a checkpoint whose magic has one wrong letter */
    size_t n;
    unsigned char *b = good_file(path, &n);
    b[7] = '2';
    write_all(path, b, n);
    expect_load_error("GENCKPT2", path, NULL, EXIT_DATA, "not a checkpoint");
    free(b);
    remove(path);
}

Test(checkpoint, future_version_is_unsupported) {
    char path[128];
    size_t n;
    unsigned char *b = good_file(tmp_path(path, sizeof path, "ver"), &n);
    b[8] = 2; /* version 2, the rest unchanged */
    write_all(path, b, n);
    expect_load_error("version 2", path, NULL, EXIT_DATA, "unsupported version 2");
    free(b);
    remove(path);
}

Test(checkpoint, shape_mismatch_names_both_shapes) {
    char path[128];
    size_t n;
    free(good_file(tmp_path(path, sizeof path, "shape"), &n)); /* fc1.weight [3, 4] */
    ParamSet *other = model(SHAPE(4, 3), 0);
    expect_load_error("transposed weight", path, other, EXIT_DATA, "fc1.weight: file has [3, 4], model has [4, 3]");
    params_free(other);
    remove(path);
}

Test(checkpoint, missing_parameter_is_named) {
    char path[128];
    size_t n;
    free(good_file(tmp_path(path, sizeof path, "missing"), &n));
    ParamSet *bigger = model(NULL, 1); /* has fc2.bias, the file does not */
    expect_load_error("model with fc2.bias", path, bigger, EXIT_DATA, "missing parameter \"fc2.bias\"");
    params_free(bigger);
    remove(path);
}

Test(checkpoint, extra_parameter_in_file_is_named) {
    char path[128];
    tmp_path(path, sizeof path, "extra");
    ParamSet *bigger = model(NULL, 1), *smaller = model(NULL, 0);
    checkpoint_save(path, bigger, META);
    expect_load_error("file with fc2.bias", path, smaller, EXIT_DATA, "file has parameter \"fc2.bias\"");
    params_free(bigger);
    params_free(smaller);
    remove(path);
}

Test(checkpoint, missing_file_is_noinput_with_the_hint) {
    const char *path = "/tmp/test_ckpt_no_such_file.bin";
    remove(path);
    expect_load_error("missing file", path, NULL, EXIT_NOINPUT, HINT);
    cr_assert(meta_fails(path) && caught_code == EXIT_NOINPUT, "checkpoint_meta: code %d, want %d", caught_code,
              EXIT_NOINPUT);
}

Test(checkpoint, failed_load_leaves_the_model_untouched) {
    char path[128];
    size_t n;
    unsigned char *b = good_file(tmp_path(path, sizeof path, "untouched"), &n);
    b[n - 1] ^= 1; /* checksum wrong, every tensor otherwise fine */
    write_all(path, b, n);
    ParamSet *ps = model(NULL, 0);
    fill(ps, 99);
    real *before = malloc((size_t)ps->size * sizeof(real));
    memcpy(before, ps->data, (size_t)ps->size * sizeof(real));
    cr_assert(load_fails(path, ps), "damaged file loaded");
    cr_assert(memcmp(before, ps->data, (size_t)ps->size * sizeof(real)) == 0, "a failed load changed the model");
    free(before);
    free(b);
    params_free(ps);
    remove(path);
}

Test(checkpoint, unwritable_path_is_an_io_error) {
    const char *path = "/tmp/test_ckpt_no_such_dir/x/model.bin";
    ParamSet *ps = model(NULL, 0);
    EXPECT_FAIL(checkpoint_save(path, ps, META), EXIT_IOERR, path);
    params_free(ps);
}

/* ---- Issue 14: hostile files ------------------------------------------------------------- */

/* A hand-built float64 file holding the tensors names[0..nt-1] with shapes
 * of model(NULL, 0) looked up by name (zeros as data), and the meta text of
 * meta_len bytes. Returns its size. */
static size_t hand_built(unsigned char *b, const char *meta, size_t meta_len, int nt, const char *const *names) {
    size_t n = 0;
#define PUT(p, k) (memcpy(b + n, (p), (k)), n += (k))
#define PUT32(x) do { uint32_t v_ = (x); PUT(&v_, 4); } while (0)
    PUT("GENCKPT1", 8);
    PUT32(1);
    PUT32(8);
    PUT32((uint32_t)meta_len);
    PUT(meta, meta_len);
    PUT32((uint32_t)nt);
    ParamSet *shapes = model(NULL, 0);
    for (int k = 0; k < nt; k++) {
        const Tensor *t = params_get(shapes, names[k]);
        cr_assert(t, "hand_built: no tensor %s", names[k]);
        PUT32((uint32_t)strlen(names[k]));
        PUT(names[k], strlen(names[k]));
        PUT32((uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) PUT32((uint32_t)t->shape[d]);
        memset(b + n, 0, (size_t)t->size * 8);
        n += (size_t)t->size * 8;
    }
    params_free(shapes);
    uint64_t h = fnv1a(b, n);
    PUT(&h, 8);
#undef PUT32
#undef PUT
    return n;
}

Test(checkpoint, duplicated_tensor_name_is_named_duplicated) {
    char path[128];
    unsigned char b[2048];
    const char *names[] = {"fc1.weight", "fc1.bias", "fc1.bias", "conv.weight"};
    write_all(tmp_path(path, sizeof path, "dup"), b, hand_built(b, META, strlen(META), 4, names));
    expect_load_error("fc1.bias twice", path, NULL, EXIT_DATA, "tensor \"fc1.bias\" is duplicated");
    remove(path);
}

/* The meta text is documented as "no NUL": one inside would make
 * checkpoint_meta return a silently shorter text. */
Test(checkpoint, nul_byte_in_meta_or_name_is_damaged) {
    char path[128];
    unsigned char b[2048];
    const char *names[] = {"fc1.weight", "fc1.bias", "conv.weight"};
    write_all(tmp_path(path, sizeof path, "nul"), b, hand_built(b, "gpt\0L=9", 7, 3, names));
    expect_load_error("NUL in meta", path, NULL, EXIT_DATA, "damaged: the meta text holds a NUL byte");
    const char *nul_name[] = {"fc1.weight", "fc1.bias", "conv.weight"};
    size_t n = hand_built(b, META, strlen(META), 3, nul_name);
    size_t at = 24 + strlen(META) + 4 + 3; /* the 4th byte of "fc1.weight" */
    b[at] = 0;
    uint64_t h = fnv1a(b, n - 8);
    memcpy(b + n - 8, &h, 8);
    write_all(path, b, n);
    expect_load_error("NUL in a name", path, NULL, EXIT_DATA, "damaged: tensor 0's name holds a NUL byte");
    remove(path);
}

/* A FIFO (or /dev/zero) is not read forever: only a regular file is a
 * checkpoint. Before the fix, fopen blocked on the FIFO (the timeout fails). */
Test(checkpoint, fifo_or_device_is_refused_not_read, .timeout = 10) {
    char path[128];
    tmp_path(path, sizeof path, "fifo");
    remove(path);
    cr_assert(mkfifo(path, 0600) == 0, "cannot make a FIFO at %s", path);
    expect_load_error("a FIFO", path, NULL, EXIT_NOINPUT, "not a regular file");
    remove(path);
    expect_load_error("/dev/zero", "/dev/zero", NULL, EXIT_NOINPUT, "not a regular file");
}

/* Matching file tensors to parameters takes linear time: 200,000 one-number
 * parameters (a 100-byte meta line can ask for that many) save and load in
 * well under the bound; the old pairwise match needed minutes. */
Test(checkpoint, two_hundred_thousand_tensors_load_in_linear_time, .timeout = 60) {
    enum { NT = 200000 };
    char path[128], name[32];
    tmp_path(path, sizeof path, "many");
    double t0 = now_seconds();
    ParamSet *a = params_new(), *b = params_new();
    for (int k = 0; k < NT; k++) {
        snprintf(name, sizeof name, "h.%d.w", NT - k); /* not in sorted order */
        params_add(a, name, 1, SHAPE(1));
        snprintf(name, sizeof name, "h.%d.w", k + 1);  /* the other order */
        params_add(b, name, 1, SHAPE(1));
    }
    params_alloc(a);
    params_alloc(b);
    for (int k = 0; k < NT; k++) a->data[k] = (real)(NT - k);
    checkpoint_save(path, a, META);
    cr_assert(!load_fails(path, b), "load failed: %s", caught_msg);
    double dt = now_seconds() - t0;
    for (int k = 0; k < NT; k++)
        cr_assert(b->data[k] == (real)(k + 1), "h.%d.w loaded as %g", k + 1, (double)b->data[k]);
    cr_assert(dt < 15.0, "%d tensors took %.1f s to declare, save and load (bound 15 s)", NT, dt);
    params_free(a);
    params_free(b);
    remove(path);
}
