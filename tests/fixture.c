/* fixture.c - the reference-fixture loader (format: see fixture.h).
 *
 * Teaches: strict parsing of a tiny text format. Every way a file can be
 * wrong (missing, a bad header, a non-number, too few or too many values, a
 * repeated name) is a message that names the file, the line and the fix.
 * Leaves out: speed (fixtures are a few hundred KB at most) and writing
 * (the PyTorch scripts write; C only reads).
 */
#include "fixture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_FIXTURE_FILE 66   /* missing or corrupt file (EX_NOINPUT) */
#define EXIT_FIXTURE_NAME 65   /* asked for a tensor the file lacks (EX_DATAERR) */

/* ---- Messages ------------------------------------------------------------ */

/* Prints "fixture: <path>: <what>" and how to regenerate, then exits 66.
 * The script is the fixture's name with .txt replaced by .py. */
static void fail_file(const char *path, const char *fmt, ...)
{
    char script[600];
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".txt") == 0 && n < sizeof script - 4)
        snprintf(script, sizeof script, "%.*s.py", (int)(n - 4), path);
    else
        snprintf(script, sizeof script, "the script beside %s", path);

    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fixture: %s: ", path);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr,
            "\n  Run the tests from the repository root, or regenerate the "
            "fixture:\n    apt-get install python3-torch && /usr/bin/python3 %s\n",
            script);
    exit(EXIT_FIXTURE_FILE);
}

/* ---- Tokens -------------------------------------------------------------- */

/* A cursor over the file's text; '#' starts a comment that runs to the end
 * of its line. `line` is 1-based, for messages. */
typedef struct {
    const char *p;
    int line;
} Cursor;

/* Advances to the next token and returns its start (NULL at end of text);
 * *len receives its length. */
static const char *next_token(Cursor *c, size_t *len)
{
    for (;;) {
        while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n') {
            if (*c->p == '\n') c->line++;
            c->p++;
        }
        if (*c->p == '#') {
            while (*c->p && *c->p != '\n') c->p++;
            continue;
        }
        break;
    }
    if (*c->p == '\0') return NULL;
    const char *start = c->p;
    while (*c->p && *c->p != ' ' && *c->p != '\t' && *c->p != '\r' &&
           *c->p != '\n' && *c->p != '#')
        c->p++;
    *len = (size_t)(c->p - start);
    return start;
}

static int token_is(const char *tok, size_t len, const char *word)
{
    return tok && len == strlen(word) && memcmp(tok, word, len) == 0;
}

/* Parses a whole token as a non-negative int in [lo, hi]; -1 if it is not. */
static long token_int(const char *tok, size_t len, long lo, long hi)
{
    char buf[32];
    if (!tok || len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || *end != '\0' || v < lo || v > hi) return -1;
    return v;
}

/* ---- File ---------------------------------------------------------------- */

/* The whole file as one NUL-terminated string (NULL on failure: errno set). */
static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) { fclose(fp); return NULL; }
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); fclose(fp); return NULL; }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) { free(buf); errno = EIO; return NULL; }
    buf[n] = '\0';
    if (strlen(buf) != n) { free(buf); errno = EILSEQ; return NULL; } /* NUL byte: binary */
    return buf;
}

/* ---- Loading ------------------------------------------------------------- */

Fixture *fixture_load(const char *path)
{
    char *text = read_all(path);
    if (!text) {
        if (errno == EILSEQ) fail_file(path, "holds a NUL byte; this is not a text fixture");
        fail_file(path, "cannot read it (%s)", strerror(errno));
    }

    Fixture *f = calloc(1, sizeof *f);
    if (!f) fail_file(path, "out of memory");
    snprintf(f->path, sizeof f->path, "%s", path);
    int cap = 0;

    Cursor c = { text, 1 };
    size_t len;
    const char *tok = next_token(&c, &len);
    if (!tok) fail_file(path, "holds no tensors (empty or only comments)");

    while (tok) {
        /* Header: tensor <name> <ndim> <d0> [<d1> ...] */
        int hline = c.line;
        if (!token_is(tok, len, "tensor"))
            fail_file(path, "line %d: expected 'tensor <name> <ndim> <dims...>', found '%.*s'",
                      hline, (int)(len > 40 ? 40 : len), tok);

        if (f->n == cap) {
            cap = cap ? 2 * cap : 16;
            FixTensor *nt = realloc(f->t, (size_t)cap * sizeof *nt);
            if (!nt) fail_file(path, "out of memory");
            f->t = nt;
        }
        FixTensor *t = &f->t[f->n];
        memset(t, 0, sizeof *t);

        tok = next_token(&c, &len);
        if (!tok || c.line != hline)
            fail_file(path, "line %d: 'tensor' without a name", hline);
        if (len >= sizeof t->name)
            fail_file(path, "line %d: tensor name longer than %zu characters",
                      hline, sizeof t->name - 1);
        memcpy(t->name, tok, len);
        t->name[len] = '\0';
        for (int i = 0; i < f->n; i++)
            if (strcmp(f->t[i].name, t->name) == 0)
                fail_file(path, "line %d: tensor '%s' appears twice", hline, t->name);

        tok = next_token(&c, &len);
        long nd = (tok && c.line == hline) ? token_int(tok, len, 1, FIXTURE_MAX_DIMS) : -1;
        if (nd < 0)
            fail_file(path, "line %d: tensor '%s': ndim must be an integer 1..%d",
                      hline, t->name, FIXTURE_MAX_DIMS);
        t->ndim = (int)nd;
        t->size = 1;
        for (int d = 0; d < FIXTURE_MAX_DIMS; d++) t->shape[d] = 1;
        for (int d = 0; d < t->ndim; d++) {
            tok = next_token(&c, &len);
            long v = (tok && c.line == hline) ? token_int(tok, len, 1, 1L << 24) : -1;
            if (v < 0)
                fail_file(path, "line %d: tensor '%s': dimension %d missing or not a "
                          "positive integer", hline, t->name, d);
            t->shape[d] = (int)v;
            t->size *= v;
            if (t->size > (1L << 28))
                fail_file(path, "line %d: tensor '%s' is implausibly large", hline, t->name);
        }
        f->n++;   /* counted now, so fixture_free would release its data */

        /* Values: exactly size numbers, then the next header or the end. */
        t->data = malloc((size_t)t->size * sizeof *t->data);
        if (!t->data) fail_file(path, "out of memory");
        long i = 0;
        for (;;) {
            tok = next_token(&c, &len);
            if (!tok || token_is(tok, len, "tensor")) break;
            if (i == t->size)
                fail_file(path, "line %d: tensor '%s' (line %d) has more than its %ld values",
                          c.line, t->name, hline, t->size);
            char buf[64];
            if (len >= sizeof buf)
                fail_file(path, "line %d: '%.20s...' is not a number", c.line, tok);
            memcpy(buf, tok, len);
            buf[len] = '\0';
            char *end;
            t->data[i] = strtod(buf, &end);
            if (end == buf || *end != '\0')
                fail_file(path, "line %d: '%s' is not a number (tensor '%s')",
                          c.line, buf, t->name);
            i++;
        }
        if (i != t->size)
            fail_file(path, "tensor '%s' (line %d) has %ld values, its shape needs %ld "
                      "(file truncated?)", t->name, hline, i, t->size);
    }
    free(text);
    return f;
}

const FixTensor *fixture_get(const Fixture *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    fprintf(stderr,
            "fixture: %s: no tensor named '%s'.\n"
            "  The test asks for a name the PyTorch script does not write: check the\n"
            "  names in tests/reference/README.md, or regenerate the fixture.\n",
            f->path, name);
    exit(EXIT_FIXTURE_NAME);
}

void fixture_free(Fixture *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->t[i].data);
    free(f->t);
    free(f);
}
