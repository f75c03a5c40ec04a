/* fuzz_corpus.c - libFuzzer harness for the text corpus reader (lib/data.c
 * corpus_load).
 *
 * The input is split at each "\n--8<--\n" into up to five pieces, written as
 * the files b, a, c, d (in that order) and x.dat of a fresh directory.
 * Must hold for any input: corpus_load(dir) returns exactly a + b + c + d
 * (sorted names; *.dat skipped) followed by a 0, or fails because that is
 * empty; with only = "c" it returns c alone (or fails if c is empty).
 */
#include "fuzz.h"
#include "data.h"

#define FUZZ_CORPUS_SEP "\n--8<--\n"

/* corpus_load(dir, NULL, only), or NULL if it failed. */
static Text *fuzz_corpus_load(const char *dir, const char *only) {
    Text *volatile got = NULL;
    volatile int failed;
    FUZZ_TRY(failed, got = corpus_load(dir, NULL, only));
    return failed ? NULL : got;
}

static void fuzz_corpus_expect(const char *dir, const char *only, const uint8_t *const *part, const size_t *len,
                               int n_part) {
    size_t want = 0;
    for (int k = 0; k < n_part; k++) want += len[k];
    Text *t = fuzz_corpus_load(dir, only);
    if (!t) {
        FUZZ_CHECK(want == 0, "corpus_load%s failed on %zu bytes of text", only ? "(only)" : "", want);
        return;
    }
    FUZZ_CHECK(t->n == (long)want, "corpus_load returned %ld bytes, want %zu", t->n, want);
    size_t at = 0;
    for (int k = 0; k < n_part; k++) {
        FUZZ_CHECK(len[k] == 0 || memcmp(t->bytes + at, part[k], len[k]) == 0, "piece %d differs", k);
        at += len[k];
    }
    FUZZ_CHECK(t->bytes[t->n] == 0, "the text is not followed by a 0");
    text_free(t);
}

int fuzz_corpus(const uint8_t *d, size_t n) {
    static const char *const names[5] = {"b", "a", "c", "d", "x.dat"};
    const uint8_t *start[5] = {0};
    size_t len[5] = {0};
    int k = fuzz_split(d, n, FUZZ_CORPUS_SEP, 5, start, len);
    char dir[128], path[160];
    fuzz_path(dir, sizeof dir, "corpus");
    mkdir(dir, 0700);
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
        if (i < k) fuzz_write(path, start[i], len[i]);
    }
    /* sorted: a (piece 1), b (piece 0), c (piece 2), d (piece 3) */
    const uint8_t *order[4] = {start[1], start[0], start[2], start[3]};
    size_t olen[4] = {len[1], len[0], len[2], len[3]};
    fuzz_corpus_expect(dir, NULL, order, olen, 4);
    fuzz_corpus_expect(dir, "c", order + 2, olen + 2, k > 2 ? 1 : 0);
    return 0;
}

FUZZ_ENTRY(fuzz_corpus)
