/* seed_checkpoint.c - writes the checkpoint harness's seed files.
 *
 * Usage: seed_checkpoint DIR. Saves fuzz_checkpoint_model() (fuzz/
 * fuzz_checkpoint.c) with a real meta line as DIR/model.ckpt, the same
 * model as float32 numbers as DIR/model-f32.ckpt (the other number size the
 * reader converts), and an empty model as DIR/empty.ckpt. fuzz/seeds.sh
 * puts the harness's mode byte in front of each; built with the library,
 * without the fuzzer.
 */
#define FUZZ_NO_MAIN
#include "fuzz_checkpoint.c"

/* The float32 twin of a float64 or float32 file: the same file with every
 * number converted and the checksum recomputed (the layout of checkpoint.h). */
static void write_f32(const char *path, const ParamSet *ps, const char *meta) {
    FILE *f = fopen(path, "wb");
    if (!f) fail(EXIT_IOERR, path, "check the directory", "cannot create");
    unsigned char b[65536];
    size_t n = 0;
#define PUT(p, k) (memcpy(b + n, (p), (k)), n += (k))
#define PUT32(x) do { uint32_t v_ = (uint32_t)(x); PUT(&v_, 4); } while (0)
    PUT("GENCKPT1", 8);
    PUT32(1);
    PUT32(4);
    PUT32(strlen(meta));
    PUT(meta, strlen(meta));
    PUT32(ps->n);
    for (int k = 0; k < ps->n; k++) {
        const Tensor *t = ps->t[k];
        PUT32(strlen(t->name));
        PUT(t->name, strlen(t->name));
        PUT32(t->ndim);
        for (int i = 0; i < t->ndim; i++) PUT32(t->shape[i]);
        for (long i = 0; i < t->size; i++) {
            float x = (float)t->data[i];
            PUT(&x, 4);
        }
    }
    uint64_t h = fuzz_fnv1a(b, n);
    PUT(&h, 8);
#undef PUT32
#undef PUT
    fwrite(b, 1, n, f);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: seed_checkpoint DIR\n");
        return EXIT_USAGE;
    }
    char path[4096];
    const char *meta = "gpt vocab=96 ctx=64 layers=4 heads=4 width=128";
    ParamSet *ps = fuzz_checkpoint_model();
    snprintf(path, sizeof path, "%s/model.ckpt", argv[1]);
    checkpoint_save(path, ps, meta);
    snprintf(path, sizeof path, "%s/model-f32.ckpt", argv[1]);
    write_f32(path, ps, meta);
    params_free(ps);
    ps = params_new();
    params_alloc(ps);
    snprintf(path, sizeof path, "%s/empty.ckpt", argv[1]);
    checkpoint_save(path, ps, "");
    params_free(ps);
    return 0;
}
