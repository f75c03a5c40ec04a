/* test_fuzz_regress.c - every input that ever troubled a fuzzer, replayed.
 *
 * Proves: each file kept in fuzz/regress/<harness>/ (inputs that once made
 * a libFuzzer harness crash, leak or break an invariant, and the inputs of
 * the findings of issue 14; fuzz/regress/README.md says which is which)
 * now goes through its harness without a crash: the reader fails with a
 * clear message or returns something valid, and the harness's invariants
 * hold (a failed load leaves the model untouched; a loaded checkpoint
 * saves and loads back bit for bit; the corpus is the files' bytes in
 * order). The harnesses are fuzz/fuzz_*.c themselves, included here
 * without their libFuzzer entry point, so the replay runs exactly the code
 * that fuzzed. No fuzzing here (that is `make fuzz`); a broken invariant
 * aborts, which Criterion reports as a crash of the test. Under `make
 * sanitize` the replay also runs under ASan + UBSan.
 * To see which file fails: build/fuzz/fuzz_<harness> fuzz/regress/<harness>/F...
 * (after `make fuzz`) names each input it runs.
 * No tolerances: every check is exact.
 */
#define FUZZ_NO_MAIN
#include "../fuzz/fuzz_idx.c"
#include "../fuzz/fuzz_corpus.c"
#include "../fuzz/fuzz_checkpoint.c"
#include "../fuzz/fuzz_weave.c"

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#ifndef FUZZ_REGRESS_DIR
#define FUZZ_REGRESS_DIR "fuzz/regress" /* make runs the tests from the top directory */
#endif

/* Run every regular file of FUZZ_REGRESS_DIR/<name> through harness;
 * returns how many. */
static int replay(const char *name, int (*harness)(const uint8_t *, size_t)) {
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/%s", FUZZ_REGRESS_DIR, name);
    DIR *d = opendir(dir);
    cr_assert(d, "cannot open %s (run the tests from the project's top directory)", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        FILE *f = fopen(path, "rb");
        cr_assert(f, "cannot open %s", path);
        uint8_t *b = malloc((size_t)st.st_size + 1);
        size_t got = fread(b, 1, (size_t)st.st_size, f);
        fclose(f);
        cr_assert(got == (size_t)st.st_size, "short read of %s", path);
        cr_assert(harness(b, got) == 0, "the harness rejected %s", path);
        free(b);
        n++;
    }
    closedir(d);
    return n;
}

Test(fuzz_regress, idx_inputs_load_or_fail_cleanly) {
    int n = replay("idx", fuzz_idx);
    cr_assert(n >= 1, "fuzz/regress/idx holds no input");
}

Test(fuzz_regress, corpus_inputs_read_back_exactly) {
    int n = replay("corpus", fuzz_corpus);
    cr_assert(n >= 1, "fuzz/regress/corpus holds no input");
}

Test(fuzz_regress, checkpoint_inputs_fail_cleanly_or_round_trip) {
    int n = replay("checkpoint", fuzz_checkpoint);
    cr_assert(n >= 1, "fuzz/regress/checkpoint holds no input");
}

Test(fuzz_regress, weave_inputs_weave_without_a_crash) {
    cr_redirect_stderr(); /* the weaver names every problem of these inputs */
    int n = replay("weave", fuzz_weave);
    cr_assert(n >= 1, "fuzz/regress/weave holds no input");
}
