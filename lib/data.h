/* data.h - the course's two data sets: Fashion-MNIST images and the fortunes text.
 *
 * Teaches: reading a binary format defensively. An IDX file is a big-endian
 * header (magic number, then one 32-bit size per dimension) followed by the
 * raw bytes; every size in the header is checked against the bytes actually
 * present before a single pixel is used, so a damaged file is an error
 * message that names the file, never a read past the end.
 * Leaves out: IDX types other than unsigned bytes, memory-mapping, and any
 * preprocessing (scaling pixels to [-1, 1] or [0, 1] is the chapter's job).
 *
 * Errors (util.h fail(), message names the file and says what to do):
 *   missing file or directory              EXIT_NOINPUT
 *   wrong magic, sizes that disagree with the file, image and label counts
 *   that differ, a label > 9, corrupt or cut gzip, bytes after the end of
 *   the gzip stream (trailing garbage is refused, not dropped), an empty
 *   corpus                                                       EXIT_DATA
 */
#ifndef DATA_H
#define DATA_H

/* ---------------------------------------------------------------------------
 * Images.
 * ------------------------------------------------------------------------- */
typedef struct {
    int n, rows, cols;
    unsigned char *pixels; /* [n, rows*cols], row-major, 0 = background */
    unsigned char *labels; /* [n], each in 0..9 */
} ImageSet;

/* "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
 * "Sneaker", "Bag", "Ankle boot": the name of each label. */
extern const char *const FASHION_CLASSES[10];

/* split = "train" (60,000 images) or "t10k" (10,000). dir NULL ->
 * $FASHION_MNIST_DIR if set, else /usr/share/datasets/fashion-mnist.
 * Reads <dir>/<split>-images-idx3-ubyte.gz and <split>-labels-idx1-ubyte.gz
 * (gunzipped through zlib if they start with the gzip magic, else read as
 * they are; if a .gz name is absent, the same name without .gz is tried). */
ImageSet *fashion_load(const char *dir, const char *split);
/* An IDX3 image file (magic 0x00000803) and its IDX1 label file (0x00000801). */
ImageSet *idx_load(const char *images_path, const char *labels_path);
void imageset_free(ImageSet *s);

/* ---------------------------------------------------------------------------
 * Text.
 * ------------------------------------------------------------------------- */
typedef struct {
    long n;
    unsigned char *bytes; /* [n], plus a 0 after the end */
} Text;

/* The fortunes corpus: the plain files of dir (NULL -> $FORTUNES_DIR if set,
 * else /usr/share/games/fortunes), skipping *.dat, *.u8, symlinks, hidden
 * files and subdirectories, concatenated in sorted (strcmp) file-name order.
 * If `only` is not NULL, just that file; else every file except those named
 * in `exclude` (a NULL-terminated list, may be NULL). */
Text *corpus_load(const char *dir, const char *const *exclude, const char *only);
void text_free(Text *t);

#endif
