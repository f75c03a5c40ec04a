/* image.c - pixel scaling and image grids; see image.h. */
#include "image.h"

void pixels_to_real(real *dst, const unsigned char *src, long n, double lo, double hi) {
    double scale = (hi - lo) / 255.0;
    for (long i = 0; i < n; i++) dst[i] = (real)(lo + scale * src[i]);
}

void image_grid_write(FILE *f, const ImageGrid *g, const real *imgs) {
    int pitch = g->side + g->gap, off = g->border ? g->gap : 0;
    int H = g->rows * pitch - g->gap + 2 * off, W = g->cols * pitch - g->gap + 2 * off;
    for (int y = 0; y < H; y++) {
        int ty = (y - off) / pitch, py = (y - off) % pitch;
        for (int x = 0; x < W; x++) {
            int tx = (x - off) / pitch, px = (x - off) % pitch;
            double v = g->gap_value;
            if (y >= off && x >= off && py < g->side && px < g->side && ty < g->rows && tx < g->cols)
                v = imgs[(long)(ty * g->cols + tx) * g->side * g->side + py * g->side + px];
            fprintf(f, "%s%.4f", x ? "\t" : "", v);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n\n");
}
