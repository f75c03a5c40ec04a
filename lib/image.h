/* image.h - pixels in, image grids out: the one place chapters 3 and 4
 * convert Fashion-MNIST bytes and write sample grids for gnuplot.
 *
 * Teaches: a network never sees bytes. A GAN whose generator ends in tanh
 * wants pixels in [-1, 1]; a VAE with a Bernoulli decoder wants [0, 1].
 * Both are one affine map of the byte b: lo + (hi - lo) * b / 255.
 * Leaves out: any image file format (gnuplot draws the matrix).
 */
#ifndef IMAGE_H
#define IMAGE_H

#include <stdio.h>

#include "real.h"

/* dst[i] = lo + (hi - lo) * src[i] / 255, for n bytes. */
void pixels_to_real(real *dst, const unsigned char *src, long n, double lo, double hi);

/* rows x cols square images of side x side pixels (imgs [rows * cols,
 * side * side], row-major) as one gnuplot matrix block: tiles separated by
 * gap pixels of value gap_value (gap around the border too if border),
 * values written with %.4f, then two blank lines (gnuplot's next index). */
typedef struct {
    int rows, cols, side, gap, border;
    double gap_value;
} ImageGrid;

void image_grid_write(FILE *f, const ImageGrid *g, const real *imgs);

#endif
