/* test_data.c - the data loaders: Fashion-MNIST (IDX + gzip) and the text corpus.
 *
 * Proves: the installed Fashion-MNIST loads with its documented sizes and
 * known first labels and pixel sums; tiny IDX files written here load byte
 * for byte, gzip-compressed and plain, directly or through fashion_load
 * (argument, $FASHION_MNIST_DIR, the name without .gz); every damaged input
 * (truncated, wrong magic, sizes that disagree with the file, image and
 * label counts that differ, a label > 9, corrupt or cut gzip, an empty or
 * missing file or directory) stops with the documented exit code and a
 * message that names the file and says what to do; the corpus loader keeps
 * plain files only, in strcmp order, honours `exclude` and `only`, and the
 * installed fortunes load whole.
 * Leaves out: speed. Values are bytes, compared exactly (no tolerance).
 * Tests that need an installed package are skipped (cr_skip) without it.
 */
#define _GNU_SOURCE /* nftw, mkdtemp, setenv, symlink */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "catch_fail.h"
#include "data.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define FORTUNES "/usr/share/games/fortunes"

/* ---- Helpers ----------------------------------------------------------------- */

static char tmp[256]; /* this test's scratch directory */

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/test_data_XXXXXX");
    cr_assert(mkdtemp(tmp), "cannot create a temporary directory");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tmp(void) {
    if (tmp[0]) nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmp/name into buf; returns buf. */
static char *in_tmp(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", tmp, name);
    return buf;
}

/* Write n bytes to tmp/name, gzip-compressed if gz. Returns the path (static per slot). */
static const char *write_file(const char *name, const void *bytes, size_t n, int gz) {
    static char paths[8][512];
    static int slot;
    char *p = in_tmp(paths[slot++ % 8], 512, name);
    if (gz) {
        gzFile f = gzopen(p, "wb");
        cr_assert(f, "cannot create %s", p);
        cr_assert(n == 0 || gzwrite(f, bytes, (unsigned)n) == (int)n, "cannot write %s", p);
        cr_assert(gzclose(f) == Z_OK, "cannot close %s", p);
    } else {
        FILE *f = fopen(p, "wb");
        cr_assert(f, "cannot create %s", p);
        cr_assert(fwrite(bytes, 1, n, f) == n, "cannot write %s", p);
        fclose(f);
    }
    return p;
}

static void put_be32(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A tiny data set: 3 images of 2 x 4, pixel i of image j = 10 j + i, labels 0, 9, 5. */
enum { TN = 3, TR = 2, TC = 4 };
static const unsigned char TLABELS[TN] = {0, 9, 5};

/* The image file's bytes into buf (16 + n*rows*cols), header from the arguments. */
static size_t image_bytes(unsigned char *buf, unsigned magic, unsigned n, unsigned rows, unsigned cols, int npix) {
    put_be32(buf, magic), put_be32(buf + 4, n), put_be32(buf + 8, rows), put_be32(buf + 12, cols);
    for (int i = 0; i < npix; i++) buf[16 + i] = (unsigned char)(10 * (i / (TR * TC)) + i % (TR * TC));
    return 16 + (size_t)npix;
}

static size_t label_bytes(unsigned char *buf, unsigned magic, unsigned n, int nlab) {
    put_be32(buf, magic), put_be32(buf + 4, n);
    for (int i = 0; i < nlab; i++) buf[8 + i] = TLABELS[i % TN];
    return 8 + (size_t)nlab;
}

/* Write the good tiny set as <prefix>-images-idx3-ubyte[.gz] and -labels-... */
static void write_tiny(const char *prefix, int gz, const char **ip, const char **lp) {
    unsigned char b[64];
    char name[128];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
    *ip = write_file(name, b, image_bytes(b, 0x803, TN, TR, TC, TN * TR * TC), gz);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
    *lp = write_file(name, b, label_bytes(b, 0x801, TN, TN), gz);
}

static void expect_tiny(const ImageSet *s, const char *how) {
    cr_assert(s->n == TN && s->rows == TR && s->cols == TC, "%s: %d images of %d x %d, want %d of %d x %d", how, s->n,
              s->rows, s->cols, TN, TR, TC);
    for (int i = 0; i < TN * TR * TC; i++) {
        int want = 10 * (i / (TR * TC)) + i % (TR * TC);
        cr_assert(s->pixels[i] == want, "%s: pixel %d is %d, want %d", how, i, s->pixels[i], want);
    }
    for (int i = 0; i < TN; i++)
        cr_assert(s->labels[i] == TLABELS[i], "%s: label %d is %d, want %d", how, i, s->labels[i], TLABELS[i]);
}

TestSuite(data, .init = make_tmp, .fini = remove_tmp);

/* ---- The installed data set ----------------------------------------------------------- */

static void skip_without_fashion(void) {
    if (access(FASHION_DIR "/train-labels-idx1-ubyte.gz", R_OK) != 0)
        cr_skip_test("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
}

/* First labels and the first image's pixel sum, read once with Python's
 * gzip module from the Debian package's files. */
Test(data, installed_train_split_has_60000_images_and_known_first_labels) {
    skip_without_fashion();
    ImageSet *s = fashion_load(FASHION_DIR, "train");
    const unsigned char first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    cr_assert(s->n == 60000 && s->rows == 28 && s->cols == 28, "%d images of %d x %d", s->n, s->rows, s->cols);
    for (int i = 0; i < 10; i++) cr_assert(s->labels[i] == first[i], "label %d is %d, want %d", i, s->labels[i], first[i]);
    long counts[10] = {0}, sum = 0;
    for (int i = 0; i < s->n; i++) {
        cr_assert(s->labels[i] < 10, "label %d is %d", i, s->labels[i]);
        counts[s->labels[i]]++;
    }
    for (int c = 0; c < 10; c++) cr_assert(counts[c] == 6000, "class %d has %ld images, want 6000", c, counts[c]);
    for (int i = 0; i < 784; i++) sum += s->pixels[i];
    cr_assert(sum == 76247, "first image's pixel sum %ld, want 76247", sum);
    imageset_free(s);
}

Test(data, installed_t10k_split_has_10000_images_and_known_first_labels) {
    skip_without_fashion();
    ImageSet *s = fashion_load(NULL, "t10k"); /* the default directory */
    const unsigned char first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    cr_assert(s->n == 10000 && s->rows == 28 && s->cols == 28, "%d images of %d x %d", s->n, s->rows, s->cols);
    for (int i = 0; i < 10; i++) cr_assert(s->labels[i] == first[i], "label %d is %d, want %d", i, s->labels[i], first[i]);
    long sum = 0;
    for (int i = 0; i < 784; i++) sum += s->pixels[i];
    cr_assert(sum == 33456, "first image's pixel sum %ld, want 33456", sum);
    imageset_free(s);
}

Test(data, class_names_are_fashion_mnist_s) {
    cr_assert_str_eq(FASHION_CLASSES[0], "T-shirt/top");
    cr_assert_str_eq(FASHION_CLASSES[5], "Sandal");
    cr_assert_str_eq(FASHION_CLASSES[9], "Ankle boot");
}

/* ---- Tiny files written here --------------------------------------------------------- */

Test(data, tiny_idx_loads_exactly_gzipped_and_plain) {
    const char *ip, *lp;
    write_tiny("gz", 1, &ip, &lp);
    ImageSet *s = idx_load(ip, lp);
    expect_tiny(s, "gzip");
    imageset_free(s);
    write_tiny("plain", 0, &ip, &lp);
    s = idx_load(ip, lp);
    expect_tiny(s, "plain");
    imageset_free(s);
}

Test(data, fashion_load_finds_files_by_argument_environment_and_plain_name) {
    const char *ip, *lp;
    write_tiny("train", 1, &ip, &lp); /* train-*.gz */
    write_tiny("t10k", 0, &ip, &lp);  /* t10k-* without .gz */
    ImageSet *s = fashion_load(tmp, "train");
    expect_tiny(s, "dir argument, .gz");
    imageset_free(s);
    s = fashion_load(tmp, "t10k");
    expect_tiny(s, "dir argument, no .gz");
    imageset_free(s);
    setenv("FASHION_MNIST_DIR", tmp, 1);
    s = fashion_load(NULL, "train");
    expect_tiny(s, "$FASHION_MNIST_DIR");
    imageset_free(s);
    unsetenv("FASHION_MNIST_DIR");
}

/* ---- Damaged files ----------------------------------------------------------------------- */

Test(data, missing_file_or_directory_is_noinput_with_install_hint) {
    const char *ip, *lp;
    char missing[512];
    write_tiny("ok", 1, &ip, &lp);
    in_tmp(missing, sizeof missing, "nope-images-idx3-ubyte.gz");
    EXPECT_FAIL(idx_load(missing, lp), EXIT_NOINPUT, missing, "apt-get install dataset-fashion-mnist");
    in_tmp(missing, sizeof missing, "nope-labels-idx1-ubyte.gz");
    EXPECT_FAIL(idx_load(ip, missing), EXIT_NOINPUT, missing, "--data DIR");
    /* an empty directory: fashion_load names the .gz file it wanted */
    EXPECT_FAIL(fashion_load(tmp, "t10k"), EXIT_NOINPUT, "t10k-images-idx3-ubyte.gz", "apt-get install dataset-fashion-mnist");
    in_tmp(missing, sizeof missing, "no-such-dir");
    EXPECT_FAIL(fashion_load(missing, "train"), EXIT_NOINPUT, missing, "--data DIR");
    EXPECT_FAIL(fashion_load(tmp, "validation"), EXIT_SOFTWARE, "validation", "t10k");
}

Test(data, wrong_magic_is_a_data_error) {
    unsigned char b[64];
    const char *ip, *lp;
    write_tiny("ok", 1, &ip, &lp);
    const char *bad_i = write_file("bad-images.gz", b, image_bytes(b, 0x801, TN, TR, TC, TN * TR * TC), 1);
    EXPECT_FAIL(idx_load(bad_i, lp), EXIT_DATA, bad_i, "not an IDX image file (magic 0x00000801");
    const char *bad_l = write_file("bad-labels", b, label_bytes(b, 0x803, TN, TN), 0);
    EXPECT_FAIL(idx_load(ip, bad_l), EXIT_DATA, bad_l, "not an IDX label file (magic 0x00000803");
    /* a text file is not an IDX file either */
    const char *text = write_file("readme.txt", "hello, world\n", 13, 0);
    EXPECT_FAIL(idx_load(text, lp), EXIT_DATA, text, "not an IDX image file");
}

Test(data, truncated_files_are_data_errors) {
    unsigned char b[64];
    const char *ip, *lp;
    write_tiny("ok", 1, &ip, &lp);
    /* the header promises 3 images, the file holds 2.5 */
    const char *cut = write_file("cut-images", b, image_bytes(b, 0x803, TN, TR, TC, TN * TR * TC - 4), 0);
    EXPECT_FAIL(idx_load(cut, lp), EXIT_DATA, cut, "truncated");
    const char *cut_gz = write_file("cut-images.gz", b, image_bytes(b, 0x803, TN, TR, TC, TN * TR * TC - 4), 1);
    EXPECT_FAIL(idx_load(cut_gz, lp), EXIT_DATA, cut_gz, "truncated");
    const char *cut_l = write_file("cut-labels", b, label_bytes(b, 0x801, TN, TN - 1), 0);
    EXPECT_FAIL(idx_load(ip, cut_l), EXIT_DATA, cut_l, "truncated");
    /* cut inside the header, and empty */
    image_bytes(b, 0x803, TN, TR, TC, 0);
    const char *hdr = write_file("hdr-images", b, 10, 0);
    EXPECT_FAIL(idx_load(hdr, lp), EXIT_DATA, hdr, "header");
    const char *empty = write_file("empty-images.gz", b, 0, 1);
    EXPECT_FAIL(idx_load(empty, lp), EXIT_DATA, empty, "too short");
}

Test(data, dims_that_disagree_with_the_file_size_are_data_errors) {
    unsigned char b[64];
    const char *ip, *lp;
    write_tiny("ok", 1, &ip, &lp);
    /* header says 2 images but the file holds 3: extra bytes */
    const char *extra = write_file("extra-images", b, image_bytes(b, 0x803, 2, TR, TC, TN * TR * TC), 0);
    EXPECT_FAIL(idx_load(extra, lp), EXIT_DATA, extra, "extra bytes");
    /* header says 3 x 3 pixels per image but the data is 3 x 2 x 4 */
    const char *shape = write_file("shape-images.gz", b, image_bytes(b, 0x803, TN, 3, 3, TN * TR * TC), 1);
    EXPECT_FAIL(idx_load(shape, lp), EXIT_DATA, shape, "the header says 3 images of 3 x 3");
    /* absurd sizes must not be believed (nor allocated) */
    const char *huge = write_file("huge-images", b, image_bytes(b, 0x803, 0xffffffffu, 0xffffffffu, 0xffffffffu, 8), 0);
    EXPECT_FAIL(idx_load(huge, lp), EXIT_DATA, huge, "truncated");
    const char *zero = write_file("zero-images", b, image_bytes(b, 0x803, 0, TR, TC, 0), 0);
    EXPECT_FAIL(idx_load(zero, lp), EXIT_DATA, zero, "0 images");
    const char *lextra = write_file("extra-labels.gz", b, label_bytes(b, 0x801, TN, TN + 2), 1);
    EXPECT_FAIL(idx_load(ip, lextra), EXIT_DATA, lextra, "extra bytes");
}

Test(data, image_and_label_counts_that_differ_are_a_data_error) {
    unsigned char b[64];
    const char *ip, *lp;
    write_tiny("ok", 1, &ip, &lp);
    const char *two = write_file("two-labels.gz", b, label_bytes(b, 0x801, 2, 2), 1);
    EXPECT_FAIL(idx_load(ip, two), EXIT_DATA, two, "holds 2 labels");
    cr_assert(strstr(caught_msg, ip), "the message should name the image file too:\n%s", caught_msg);
}

Test(data, label_above_9_is_a_data_error) {
    unsigned char b[64];
    const char *ip, *lp;
    write_tiny("ok", 1, &ip, &lp);
    size_t n = label_bytes(b, 0x801, TN, TN);
    b[8 + 2] = 10;
    const char *bad = write_file("ten-labels", b, n, 0);
    EXPECT_FAIL(idx_load(ip, bad), EXIT_DATA, bad, "label 2 is 10");
}

Test(data, corrupt_gzip_is_a_data_error) {
    /* a real compressed file, damaged in the middle of its deflate stream */
    unsigned char b[4096];
    for (int i = 0; i < 4096; i++) b[i] = (unsigned char)(i * 7 % 251);
    put_be32(b, 0x803), put_be32(b + 4, 255), put_be32(b + 8, 4), put_be32(b + 12, 4);
    const char *p = write_file("bad-images.gz", b, 16 + 255 * 16, 1);
    FILE *f = fopen(p, "r+b");
    cr_assert(f);
    unsigned char z[4096];
    size_t n = fread(z, 1, sizeof z, f);
    cr_assert(n > 40, "compressed file too short (%zu bytes)", n);
    for (size_t i = 12; i < n - 8; i += 3) z[i] ^= 0x5a; /* the deflate data, not the 10-byte header */
    rewind(f);
    fwrite(z, 1, n, f);
    fclose(f);
    const char *ip, *lp;
    write_tiny("ok", 1, &ip, &lp);
    EXPECT_FAIL(idx_load(p, lp), EXIT_DATA, p, "gzip");
    /* and a gzip file cut in half */
    f = fopen(ip, "rb");
    n = fread(z, 1, sizeof z, f);
    fclose(f);
    const char *half = write_file("half-images.gz", z, n / 2, 0);
    EXPECT_FAIL(idx_load(half, lp), EXIT_DATA, half, "gzip");
}

/* ---- The text corpus ----------------------------------------------------------------------- */

/* tmp holds: b, a, c (plain), a.dat, c.u8 -> c (symlink), link -> a
 * (symlink), .hidden, sub/ (a directory with a file). */
static void write_corpus(void) {
    char p[512];
    write_file("b", "BB\n", 3, 0);
    write_file("a", "A\n%\n", 4, 0);
    write_file("c", "CCC", 3, 0);
    write_file("a.dat", "\x01\x02\x03", 3, 0);
    write_file(".hidden", "H", 1, 0);
    cr_assert(symlink("c", in_tmp(p, sizeof p, "c.u8")) == 0);
    cr_assert(symlink("a", in_tmp(p, sizeof p, "link")) == 0);
    cr_assert(mkdir(in_tmp(p, sizeof p, "sub"), 0777) == 0);
    write_file("sub/inner", "INNER", 5, 0);
}

static void expect_text(const Text *t, const char *want, const char *how) {
    size_t n = strlen(want);
    cr_assert(t->n == (long)n && memcmp(t->bytes, want, n) == 0 && t->bytes[n] == 0,
              "%s: got %ld bytes \"%.*s\", want %zu bytes \"%s\"", how, t->n, (int)t->n, (const char *)t->bytes, n, want);
}

Test(data, corpus_keeps_plain_files_in_sorted_order) {
    write_corpus();
    Text *t = corpus_load(tmp, NULL, NULL);
    expect_text(t, "A\n%\nBB\nCCC", "all files");
    text_free(t);
}

Test(data, corpus_exclude_and_only_select_files) {
    write_corpus();
    const char *const ex[] = {"b", "not-there", NULL};
    Text *t = corpus_load(tmp, ex, NULL);
    expect_text(t, "A\n%\nCCC", "exclude b");
    text_free(t);
    t = corpus_load(tmp, NULL, "c");
    expect_text(t, "CCC", "only c");
    text_free(t);
    setenv("FORTUNES_DIR", tmp, 1);
    t = corpus_load(NULL, NULL, "b");
    expect_text(t, "BB\n", "$FORTUNES_DIR, only b");
    text_free(t);
    unsetenv("FORTUNES_DIR");
}

Test(data, corpus_errors_name_the_directory) {
    char p[512];
    write_corpus();
    EXPECT_FAIL(corpus_load(tmp, NULL, "c.u8"), EXIT_NOINPUT, tmp, "no plain file named 'c.u8'");
    EXPECT_FAIL(corpus_load(tmp, NULL, "a.dat"), EXIT_NOINPUT, tmp, "no plain file named");
    in_tmp(p, sizeof p, "no-such-dir");
    EXPECT_FAIL(corpus_load(p, NULL, NULL), EXIT_NOINPUT, p, "apt-get install fortunes");
    in_tmp(p, sizeof p, "sub/empty");
    cr_assert(mkdir(p, 0777) == 0);
    EXPECT_FAIL(corpus_load(p, NULL, NULL), EXIT_NOINPUT, p, "--data DIR");
    write_file("sub/empty/zero", "", 0, 0);
    EXPECT_FAIL(corpus_load(p, NULL, NULL), EXIT_DATA, p, "empty");
}

/* The installed corpus is every plain file, in name order: its length is the
 * sum of their sizes, and excluding songs-poems removes exactly that file. */
Test(data, installed_fortunes_load_whole) {
    if (access(FORTUNES "/songs-poems", R_OK) != 0)
        cr_skip_test("fortunes is not installed (apt-get install fortunes)");
    struct stat st;
    char p[512];
    long want = 0;
    const char *names[] = {"art", "computers", "songs-poems", "zippy"};
    Text *all = corpus_load(NULL, NULL, NULL);
    Text *poems = corpus_load(NULL, NULL, "songs-poems");
    const char *const ex[] = {"songs-poems", NULL};
    Text *rest = corpus_load(NULL, ex, NULL);
    cr_assert(stat(FORTUNES "/songs-poems", &st) == 0);
    cr_assert(poems->n == st.st_size, "songs-poems: %ld bytes, the file has %ld", poems->n, (long)st.st_size);
    cr_assert(rest->n + poems->n == all->n, "all %ld != rest %ld + songs-poems %ld", all->n, rest->n, poems->n);
    /* the corpus starts with the first file in name order, "art" */
    FILE *f = fopen(FORTUNES "/art", "rb");
    cr_assert(f);
    unsigned char head[64];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    cr_assert(n > 0 && memcmp(all->bytes, head, n) == 0, "the corpus does not start with the file 'art'");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", FORTUNES, names[i]);
        if (stat(p, &st) == 0) want += st.st_size;
    }
    cr_assert(all->n > want, "the corpus (%ld bytes) is smaller than four of its files (%ld)", all->n, want);
    text_free(all), text_free(poems), text_free(rest);
}

/* ---- Issue 14: trailing bytes after gzip, long paths in messages ------------------------ */

/* Bytes after the end of the gzip stream are not silently dropped (zlib's
 * gzread ignores them): the file is refused. Concatenated gzip members (what
 * `cat a.gz b.gz` makes, valid gzip) still load as one stream. */
Test(data, gzip_with_trailing_garbage_is_a_data_error) {
    const char *ip, *lp;
    write_tiny("tr", 1, &ip, &lp);
    unsigned char z[4096];
    FILE *f = fopen(ip, "rb");
    cr_assert(f);
    size_t n = fread(z, 1, sizeof z - 16, f);
    fclose(f);
    memcpy(z + n, "GARBAGE!", 8);
    const char *bad = write_file("trailing-images.gz", z, n + 8, 0);
    EXPECT_FAIL(idx_load(bad, lp), EXIT_DATA, bad, "8 bytes after the end of the gzip stream");
    memset(z + n, 0, 8); /* zero padding is trailing data too */
    bad = write_file("zeros-images.gz", z, n + 8, 0);
    EXPECT_FAIL(idx_load(bad, lp), EXIT_DATA, bad, "after the end of the gzip stream");

    /* the image file split in two gzip members, concatenated: loads exactly */
    unsigned char b[64];
    size_t len = image_bytes(b, 0x803, TN, TR, TC, TN * TR * TC), cut = 21;
    unsigned char both[2][4096];
    size_t bn[2];
    for (int k = 0; k < 2; k++) {
        const char *part = write_file(k ? "part1.gz" : "part0.gz", k ? b + cut : b, k ? len - cut : cut, 1);
        f = fopen(part, "rb");
        bn[k] = fread(both[k], 1, sizeof both[k], f);
        fclose(f);
    }
    memcpy(both[0] + bn[0], both[1], bn[1]);
    const char *two = write_file("two-members-images.gz", both[0], bn[0] + bn[1], 0);
    ImageSet *s = idx_load(two, lp);
    expect_tiny(s, "two gzip members");
    imageset_free(s);
}

/* fail() never cuts its message: with a path of 3,000 bytes (fail() used a
 * 1,024-byte buffer) the message still ends with the cause and the hint. */
static jmp_buf long_jump;
static char *long_msg;
static void keep_whole_message(int code, const char *message) {
    (void)code;
    long_msg = strdup(message);
    longjmp(long_jump, 1);
}

Test(data, error_message_keeps_cause_and_hint_after_a_long_path) {
    char path[3100];
    int k = snprintf(path, sizeof path, "%s/", tmp);
    while (k < 3000) k += snprintf(path + k, sizeof path - (size_t)k, "very-long-directory-name/");
    snprintf(path + k, sizeof path - (size_t)k, "t10k-images-idx3-ubyte.gz");
    long_msg = NULL;
    set_fail_handler(keep_whole_message);
    if (setjmp(long_jump) == 0) idx_load(path, path);
    set_fail_handler(NULL);
    cr_assert(long_msg, "idx_load of a missing file returned");
    cr_assert(strstr(long_msg, path), "the message lacks the whole path");
    cr_assert(strstr(long_msg, "cannot open (No such file or directory)"), "the cause is lost:\n%.200s...", long_msg);
    cr_assert(strstr(long_msg, "hint: install Debian's dataset-fashion-mnist"), "the hint is lost (%zu bytes)",
              strlen(long_msg));
    size_t n = strlen(long_msg);
    cr_assert(n > 0 && long_msg[n - 1] == '\n', "the message does not end with its newline");
    free(long_msg);
}

/* A corpus file whose path does not fit is an error, not silently left out
 * of the corpus (it was skipped: the text changed without a word). */
Test(data, corpus_file_with_a_path_too_long_is_an_error_not_skipped) {
    char dir[4096], name[256], p[4400];
    int k = snprintf(dir, sizeof dir, "%s", tmp);
    while (k < 3900) {
        k += snprintf(dir + k, sizeof dir - (size_t)k, "/very-long-directory-name");
        cr_assert(mkdir(dir, 0700) == 0, "cannot make %s", dir);
    }
    snprintf(p, sizeof p, "%s/a", dir);
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    fputs("short name\n", f);
    fclose(f);
    memset(name, 'n', 250);
    name[250] = '\0';
    char cwd[4096]; /* its full path is over PATH_MAX: create it from inside dir */
    cr_assert(getcwd(cwd, sizeof cwd) && chdir(dir) == 0, "cannot enter %s", dir);
    f = fopen(name, "wb");
    cr_assert(f, "cannot create the long-named file");
    fputs("long name\n", f);
    fclose(f);
    cr_assert(chdir(cwd) == 0);
    long_msg = NULL;
    Text *volatile t = NULL;
    set_fail_handler(keep_whole_message); /* the message is longer than catch_fail.h keeps */
    if (setjmp(long_jump) == 0) t = corpus_load(dir, NULL, NULL);
    set_fail_handler(NULL);
    cr_assert(long_msg, "corpus_load returned %ld bytes: the long-named file was left out", t ? t->n : 0L);
    cr_assert(strstr(long_msg, "is too long") && strstr(long_msg, "hint: use a shorter --data path"),
              "message (its end):\n%s", long_msg + (strlen(long_msg) > 300 ? strlen(long_msg) - 300 : 0));
    free(long_msg);
}
