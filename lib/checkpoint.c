/* checkpoint.c - the checkpoint format; see checkpoint.h for the layout.
 *
 * Teaches: defensive parsing. The reader never trusts a number from the file:
 * each read goes through take(), which checks the bytes are there first, so a
 * cut-off file or a corrupt length is an error message, never a read past the
 * end. Fields are copied out with memcpy (the file gives no alignment).
 * Leaves out: see checkpoint.h.
 */
#include "checkpoint.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes numbers as a little-endian machine stores them; add byte swapping for this one"
#endif

#define CKPT_MAGIC "GENCKPT1"
#define MAGIC_LEN 8
#define DEFAULT_HINT "re-create it by re-running the program that saved it"

/* ---- The checksum: FNV-1a, 64 bits ---------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

/* ---- Saving ------------------------------------------------------------------------ */

typedef struct {
    FILE *f;
    uint64_t hash;  /* of every byte written so far */
    int failed;     /* a short write happened */
} Writer;

static void put(Writer *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->f) != n) w->failed = 1;
    w->hash = fnv1a(w->hash, p, n);
}

static void put_u32(Writer *w, uint32_t x) { put(w, &x, 4); }

void checkpoint_save(const char *path, const ParamSet *ps, const char *meta) {
    if (!ps || !ps->data)
        fail(EXIT_SOFTWARE, path, "call params_alloc before saving", "parameter set is not allocated");
    if (!meta) meta = "";
    size_t plen = strlen(path);
    char *tmp = xmalloc(plen + 5);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        xfree(tmp);
        fail(EXIT_IOERR, path, "check that the directory exists and is writable", "cannot create (%s)",
             strerror(e));
    }
    Writer w = {f, FNV_OFFSET, 0};
    put(&w, CKPT_MAGIC, MAGIC_LEN);
    put_u32(&w, CKPT_VERSION);
    put_u32(&w, (uint32_t)sizeof(real));
    put_u32(&w, (uint32_t)strlen(meta));
    put(&w, meta, strlen(meta));
    put_u32(&w, (uint32_t)ps->n);
    for (int k = 0; k < ps->n; k++) {
        const Tensor *t = ps->t[k];
        put_u32(&w, (uint32_t)strlen(t->name));
        put(&w, t->name, strlen(t->name));
        put_u32(&w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) put_u32(&w, (uint32_t)t->shape[d]);
        put(&w, t->data, (size_t)t->size * sizeof(real));
    }
    uint64_t h = w.hash;
    put(&w, &h, 8);
    int e = 0;
    if (fflush(f) != 0 || ferror(f) || w.failed) e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        remove(tmp);
        xfree(tmp);
        fail(EXIT_IOERR, path, "check the disk has space and the directory is writable", "cannot write (%s)",
             strerror(e));
    }
    xfree(tmp);
}

/* ---- Loading: read, validate, then copy ------------------------------------------- */

typedef struct {
    const unsigned char *name;  /* name_len bytes inside the file buffer, no NUL */
    uint32_t name_len;
    int ndim, dims[MAX_DIMS];
    long n;                     /* prod(dims) */
    const unsigned char *data;  /* n * real_bytes bytes inside the file buffer */
} Record;

typedef struct {
    const char *path, *hint;
    unsigned char *buf;         /* [len]: the whole file */
    size_t len, pos;            /* pos: the next unread byte, always <= len */
    uint32_t real_bytes;        /* 4 or 8 */
    const unsigned char *meta;  /* meta_len bytes inside buf */
    uint32_t meta_len;
    uint32_t count;
    Record *rec;                /* [count] */
} Reader;

static void reader_free(Reader *R) {
    xfree(R->buf);
    xfree(R->rec);
    R->buf = NULL;
    R->rec = NULL;
}

/* Free everything, then fail: a test that catches the failure leaks nothing. */
__attribute__((noreturn, format(printf, 3, 4)))
static void die(Reader *R, int code, const char *fmt, ...) {
    char cause[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cause, sizeof cause, fmt, ap);
    va_end(ap);
    reader_free(R);
    fail(code, R->path, R->hint, "%s", cause);
}

/* The next n bytes, after checking they exist. */
static const unsigned char *take(Reader *R, size_t n, const char *what) {
    if (n > R->len - R->pos)
        die(R, EXIT_DATA, "truncated: %s at byte %zu needs %zu bytes, but the file ends at byte %zu", what, R->pos,
            n, R->len);
    const unsigned char *p = R->buf + R->pos;
    R->pos += n;
    return p;
}

static uint32_t take_u32(Reader *R, const char *what) {
    uint32_t x;
    memcpy(&x, take(R, 4, what), 4);
    return x;
}

/* Read the whole file into R->buf. Only a regular file is a checkpoint: a
 * FIFO would block and /dev/zero never ends. */
static void read_file(Reader *R) {
    struct stat st;
    if (stat(R->path, &st) != 0)
        fail(EXIT_NOINPUT, R->path, R->hint, "cannot open checkpoint (%s)", strerror(errno));
    if (!S_ISREG(st.st_mode)) fail(EXIT_NOINPUT, R->path, R->hint, "not a regular file");
    FILE *f = fopen(R->path, "rb");
    if (!f) fail(EXIT_NOINPUT, R->path, R->hint, "cannot open checkpoint (%s)", strerror(errno));
    size_t cap = (size_t)st.st_size + 1; /* +1: the read that finds the end */
    R->buf = xmalloc(cap);
    R->len = 0;
    for (;;) {
        if (R->len == cap) R->buf = xrealloc(R->buf, cap *= 2); /* the file grew meanwhile */
        size_t got = fread(R->buf + R->len, 1, cap - R->len, f);
        R->len += got;
        if (got == 0) break;
    }
    int bad = ferror(f), e = errno;
    fclose(f);
    if (bad) {
        reader_free(R);
        fail(EXIT_NOINPUT, R->path, R->hint, "cannot read checkpoint (%s)", strerror(e));
    }
}

/* Read and validate the whole file: structure, then checksum. */
static void parse(Reader *R, const char *path, const char *hint) {
    memset(R, 0, sizeof *R);
    R->path = path;
    R->hint = hint ? hint : DEFAULT_HINT;
    read_file(R);

    /* Header. A file whose first bytes differ from the magic is not ours; one
     * that matches but stops early is a cut-off checkpoint. */
    size_t head = R->len < MAGIC_LEN ? R->len : MAGIC_LEN;
    if (memcmp(R->buf, CKPT_MAGIC, head) != 0)
        die(R, EXIT_DATA, "not a checkpoint (it does not start with \"%s\")", CKPT_MAGIC);
    take(R, MAGIC_LEN, "the magic");
    uint32_t version = take_u32(R, "the version");
    if (version != CKPT_VERSION)
        die(R, EXIT_DATA, "unsupported version %u (this program reads version %d)", version, CKPT_VERSION);
    R->real_bytes = take_u32(R, "the number size");
    if (R->real_bytes != 4 && R->real_bytes != 8)
        die(R, EXIT_DATA, "damaged: %u bytes per number (must be 4 or 8)", R->real_bytes);
    R->meta_len = take_u32(R, "the meta length");
    R->meta = take(R, R->meta_len, "the meta text");
    if (memchr(R->meta, 0, R->meta_len)) die(R, EXIT_DATA, "damaged: the meta text holds a NUL byte");
    R->count = take_u32(R, "the tensor count");
    /* Each tensor takes at least 12 bytes (name length, ndim, one dim). */
    if (R->count > (R->len - R->pos) / 12)
        die(R, EXIT_DATA, "truncated: %u tensors cannot fit in the %zu bytes left after byte %zu", R->count,
            R->len - R->pos, R->pos);
    R->rec = xcalloc(R->count ? R->count : 1, sizeof(Record));

    /* Tensors. */
    for (uint32_t k = 0; k < R->count; k++) {
        Record *c = &R->rec[k];
        c->name_len = take_u32(R, "a name length");
        c->name = take(R, c->name_len, "a tensor name");
        if (memchr(c->name, 0, c->name_len)) die(R, EXIT_DATA, "damaged: tensor %u's name holds a NUL byte", k);
        uint32_t nd = take_u32(R, "a dimension count");
        if (nd < 1 || nd > MAX_DIMS)
            die(R, EXIT_DATA, "damaged: tensor %u (\"%.*s\") has %u dims (must be 1..%d)", k,
                (int)(c->name_len < 64 ? c->name_len : 64), (const char *)c->name, nd, MAX_DIMS);
        c->ndim = (int)nd;
        const unsigned char *dp = take(R, 4 * (size_t)nd, "the dims");
        uint64_t n = 1;
        for (int d = 0; d < c->ndim; d++) {
            uint32_t x;
            memcpy(&x, dp + 4 * d, 4);
            if (x < 1 || x > INT_MAX)
                die(R, EXIT_DATA, "damaged: tensor %u has a dim of %u", k, x);
            c->dims[d] = (int)x;
            /* n * x * real_bytes must fit in what is left; checked without overflow. */
            if (n > (R->len - R->pos) / R->real_bytes / x)
                die(R, EXIT_DATA, "truncated: tensor \"%.*s\" at byte %zu needs more bytes than the %zu left",
                    (int)(c->name_len < 64 ? c->name_len : 64), (const char *)c->name, R->pos, R->len - R->pos);
            n *= x;
        }
        c->n = (long)n;
        c->data = take(R, (size_t)n * R->real_bytes, "tensor data");
    }

    /* Checksum, over every byte before it. */
    size_t body = R->pos;
    uint64_t stored;
    memcpy(&stored, take(R, 8, "the checksum"), 8);
    uint64_t actual = fnv1a(FNV_OFFSET, R->buf, body);
    if (stored != actual)
        die(R, EXIT_DATA, "damaged: checksum mismatch (file says %016llx, contents give %016llx)",
            (unsigned long long)stored, (unsigned long long)actual);
    if (R->pos != R->len)
        die(R, EXIT_DATA, "damaged: %zu unexpected bytes after the checksum", R->len - R->pos);
}

static char *dims_str(const Record *c, char *buf, size_t len) {
    size_t k = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < c->ndim && k < len; i++) k += (size_t)snprintf(buf + k, len - k, i ? ", %d" : "%d", c->dims[i]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}

/* Free the matching's buffers, then die (the message may quote the file). */
#define DIE_MATCHING(...) (xfree(src), xfree(name), die(&R, EXIT_DATA, __VA_ARGS__))

void checkpoint_load(const char *path, ParamSet *ps, const char *hint) {
    Reader R;
    parse(&R, path, hint);

    /* Match each file tensor to the parameter of its name (a hash lookup,
     * so a file of many tensors takes linear time), then check that every
     * parameter got exactly one tensor of its shape. */
    const Record **src = xcalloc((size_t)(ps->n ? ps->n : 1), sizeof(Record *)); /* [ps->n] */
    uint32_t longest = 0;
    for (uint32_t j = 0; j < R.count; j++)
        if (R.rec[j].name_len > longest) longest = R.rec[j].name_len;
    char *name = xmalloc((size_t)longest + 1); /* a file name, NUL-terminated */
    const Record *extra = NULL;                /* the first tensor the model lacks */
    for (uint32_t j = 0; j < R.count; j++) {
        const Record *c = &R.rec[j];
        memcpy(name, c->name, c->name_len);
        name[c->name_len] = '\0';
        const Tensor *t = params_get(ps, name);
        if (!t) {
            if (!extra) extra = c;
        } else if (src[t->id]) {
            DIE_MATCHING("damaged: tensor \"%s\" is duplicated (the file holds it twice)", t->name);
        } else {
            src[t->id] = c;
        }
    }
    for (int k = 0; k < ps->n; k++) {
        const Tensor *t = ps->t[k];
        const Record *c = src[k];
        if (!c) DIE_MATCHING("missing parameter \"%s\" (the file is of another model?)", t->name);
        int same = c->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = c->dims[d] == t->shape[d];
        if (!same) {
            char fs[96], ms[96];
            DIE_MATCHING("%s: file has %s, model has %s", t->name, dims_str(c, fs, sizeof fs),
                         shape_str(t, ms, sizeof ms));
        }
    }
    if (extra)
        DIE_MATCHING("file has parameter \"%.*s\" that the model does not (the file is of another model?)",
                     (int)(extra->name_len < 128 ? extra->name_len : 128), (const char *)extra->name);
    xfree(name);

    /* Copy, converting the number size if the file's differs from `real`. */
    for (int k = 0; k < ps->n; k++) {
        Tensor *t = ps->t[k];
        const unsigned char *p = src[k]->data;
        if (R.real_bytes == sizeof(real)) {
            memcpy(t->data, p, (size_t)t->size * sizeof(real));
        } else if (R.real_bytes == 4) {
            for (long i = 0; i < t->size; i++) {
                float x;
                memcpy(&x, p + 4 * i, 4);
                t->data[i] = (real)x;
            }
        } else {
            for (long i = 0; i < t->size; i++) {
                double x;
                memcpy(&x, p + 8 * i, 8);
                t->data[i] = (real)x;
            }
        }
    }
    xfree(src);
    reader_free(&R);
}

char *checkpoint_meta(const char *path, char *buf, size_t len, const char *hint) {
    Reader R;
    parse(&R, path, hint);
    if (len > 0) {
        size_t n = R.meta_len < len - 1 ? R.meta_len : len - 1;
        memcpy(buf, R.meta, n);
        buf[n] = '\0';
    }
    reader_free(&R);
    return buf;
}
