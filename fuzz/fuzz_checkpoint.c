/* fuzz_checkpoint.c - libFuzzer harness for the checkpoint reader and writer
 * (lib/checkpoint.c).
 *
 * The input's first byte is a mode, the rest is the file. Mode odd: the
 * harness rewrites the file's last 8 bytes with the right checksum first,
 * so mutations reach the code after the checksum test (matching names and
 * shapes, copying numbers) instead of all stopping at "checksum mismatch".
 * The file is loaded into a small fixed model (fuzz_checkpoint_model: four
 * parameters of 1 to 4 dimensions).
 * Must hold for any input:
 *   - checkpoint_meta and checkpoint_load agree: a file whose meta cannot be
 *     read cannot be loaded;
 *   - a failed load leaves the model untouched, bit for bit;
 *   - anything that loads saves and loads back identical: the same numbers
 *     bit for bit, the same meta text, and saving the reloaded model writes
 *     the same bytes again.
 */
#include "fuzz.h"
#include "checkpoint.h"

/* The model every input is loaded into (fuzz/seed_checkpoint.c saves it to
 * make the seeds). */
static ParamSet *fuzz_checkpoint_model(void) {
    ParamSet *ps = params_new();
    params_add(ps, "fc1.weight", 2, SHAPE(3, 4));
    params_add(ps, "fc1.bias", 1, SHAPE(3));
    params_add(ps, "conv.weight", 4, SHAPE(2, 1, 2, 2));
    params_add(ps, "h.0.ln.g", 3, SHAPE(1, 2, 1));
    params_alloc(ps);
    for (long i = 0; i < ps->size; i++) ps->data[i] = (real)(i % 7) - (real)2.5;
    return ps;
}

/* FNV-1a 64, the checksum of checkpoint.h. */
static uint64_t fuzz_fnv1a(const unsigned char *b, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static unsigned char *fuzz_read_back(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f, "cannot reopen %s", path);
    size_t cap = 4096;
    unsigned char *b = malloc(cap);
    *n = 0;
    for (size_t got; (got = fread(b + *n, 1, cap - *n, f)) > 0;)
        if ((*n += got) == cap) b = realloc(b, cap *= 2);
    fclose(f);
    return b;
}

int fuzz_checkpoint(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int fix_checksum = data[0] & 1;
    size_t n = size - 1;
    unsigned char *d = malloc(n + 1);
    memcpy(d, data + 1, n);
    if (fix_checksum && n >= 8) {
        uint64_t h = fuzz_fnv1a(d, n - 8);
        memcpy(d + n - 8, &h, 8);
    }
    char path[128], again[128], third[128];
    fuzz_path(path, sizeof path, "in.ckpt");
    fuzz_path(again, sizeof again, "again.ckpt");
    fuzz_path(third, sizeof third, "third.ckpt");
    fuzz_write(path, d, n);
    free(d);

    char *meta = malloc(n + 1); /* the meta text is at most the whole file */
    volatile int meta_failed, load_failed;
    FUZZ_TRY(meta_failed, checkpoint_meta(path, meta, n + 1, NULL));
    ParamSet *a = fuzz_checkpoint_model();
    real *before = malloc((size_t)a->size * sizeof(real));
    memcpy(before, a->data, (size_t)a->size * sizeof(real));
    FUZZ_TRY(load_failed, checkpoint_load(path, a, NULL));
    if (load_failed) {
        FUZZ_CHECK(memcmp(before, a->data, (size_t)a->size * sizeof(real)) == 0, "a failed load changed the model");
    } else {
        FUZZ_CHECK(!meta_failed, "the file loads, but checkpoint_meta refused it");
        checkpoint_save(again, a, meta);
        ParamSet *b = fuzz_checkpoint_model();
        char *meta2 = malloc(n + 1);
        FUZZ_TRY(load_failed, checkpoint_load(again, b, NULL); checkpoint_meta(again, meta2, n + 1, NULL));
        FUZZ_CHECK(!load_failed, "a saved checkpoint does not load back");
        FUZZ_CHECK(memcmp(a->data, b->data, (size_t)a->size * sizeof(real)) == 0, "the numbers changed on a round trip");
        FUZZ_CHECK(strcmp(meta, meta2) == 0, "the meta text changed on a round trip");
        checkpoint_save(third, b, meta2);
        size_t n2, n3;
        unsigned char *f2 = fuzz_read_back(again, &n2), *f3 = fuzz_read_back(third, &n3);
        FUZZ_CHECK(n2 == n3 && memcmp(f2, f3, n2) == 0, "saving the reloaded model wrote other bytes");
        free(f2);
        free(f3);
        free(meta2);
        params_free(b);
    }
    free(before);
    free(meta);
    params_free(a);
    return 0;
}

FUZZ_ENTRY(fuzz_checkpoint)
