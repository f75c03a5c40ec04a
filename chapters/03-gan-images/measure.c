/* measure.c - the Fréchet distance, class coverage and memorisation of a
 * set of images, through the judge. See measure.h. */
#include "measure.h"

#include <math.h>
#include <string.h>

#include "gemm.h"
#include "linalg.h"
#include "util.h"

FeatureFit feature_fit(const real *f, int n, int dim) {
    if (n < 2 || dim < 1)
        fail(EXIT_SOFTWARE, "feature_fit", "fit at least 2 rows of width >= 1",
             "%d x %d", n, dim);
    FeatureFit fit = {.dim = dim,
                      .mu = xmalloc((size_t)dim * sizeof(double)),
                      .cov = xmalloc((size_t)dim * dim * sizeof(double))};
    mean_cov(n, dim, f, fit.mu, fit.cov);
    return fit;
}

void feature_fit_free(FeatureFit *fit) {
    xfree(fit->mu);
    xfree(fit->cov);
    fit->mu = fit->cov = NULL;
}

double fit_frechet(const FeatureFit *a, const FeatureFit *b) {
    if (a->dim != b->dim)
        fail(EXIT_SOFTWARE, "fit_frechet", "fit both sets with the same features",
             "widths %d and %d", a->dim, b->dim);
    return frechet_distance(a->dim, a->mu, a->cov, b->mu, b->cov);
}

Coverage coverage_of(const int *cls, const double *conf, int n) {
    Coverage c = {.n = n};
    double sum = 0;
    for (int i = 0; i < n; i++) c.count[cls[i]]++, sum += conf[i];
    c.mean_conf = n > 0 ? sum / n : 0;
    c.min_share = 1;
    for (int k = 0; k < JUDGE_CLASSES; k++) {
        const double p = n > 0 ? (double)c.count[k] / n : 0;
        c.present += c.count[k] > 0;
        if (p > 0) c.kl_uniform += p * log(JUDGE_CLASSES * p);
        c.min_share = fmin(c.min_share, p);
    }
    return c;
}

/*md
## Nearest neighbours as one matrix multiply

The nearest training image to each sample, among 60,000, is a search over
$n \times 60{,}000$ pairs of 784-pixel images. Written as a loop it is
$4.7 \times 10^{11}$ multiply-adds for 10,000 samples, and slow; written as
$|q - r|^2 = |q|^2 + |r|^2 - 2\,q \cdot r$ it is the norms (cheap) and every
dot product $q \cdot r$, which is one matrix product of the samples
$[n, 784]$ with the training images transposed $[784, 60{,}000]$: the
library's `gemm`, blocked for the cache and run on every core. We do it a
block of queries against a block of references at a time, so the products
never need more than a few megabytes, and keep each query's running
minimum.
*/
void nearest_neighbours(const real *q, int nq, const real *ref, int nr, int d, int *idx,
                        double *dist) {
    enum { QB = 256, RB = 2048 };
    double *rn = xmalloc((size_t)nr * sizeof(double)),
           *best = xmalloc((size_t)QB * sizeof(double));
    real *dots = xmalloc((size_t)QB * RB * sizeof(real)); /* [QB, RB] */
#pragma omp parallel for if ((long)nr * d > (1L << 16))
    for (int r = 0; r < nr; r++) {
        double s = 0;
        for (int k = 0; k < d; k++)
            s += (double)ref[(long)r * d + k] * ref[(long)r * d + k];
        rn[r] = s;
    }
    for (int q0 = 0; q0 < nq; q0 += QB) {
        const int nb = nq - q0 < QB ? nq - q0 : QB;
        for (int i = 0; i < nb; i++) best[i] = INFINITY, idx[q0 + i] = -1;
        for (int r0 = 0; r0 < nr; r0 += RB) {
            const int mb = nr - r0 < RB ? nr - r0 : RB;
            /* dots[i, j] = q[q0 + i] . ref[r0 + j] */
            gemm(nb, mb, d, q + (long)q0 * d, d, 0, ref + (long)r0 * d, d, 1, dots, mb,
                 0);
#pragma omp parallel for if ((long)nb * mb > (1L << 16))
            for (int i = 0; i < nb; i++) {
                const real *row = dots + (long)i * mb;
                for (int j = 0; j < mb;
                     j++) { /* |q|^2 is the same for every j: added below */
                    const double d2 = rn[r0 + j] - 2.0 * row[j];
                    if (d2 < best[i]) best[i] = d2, idx[q0 + i] = r0 + j;
                }
            }
        }
        for (int i = 0; i < nb; i++) {
            double qn = 0;
            for (int k = 0; k < d; k++)
                qn += (double)q[(long)(q0 + i) * d + k] * q[(long)(q0 + i) * d + k];
            dist[q0 + i] = sqrt(fmax(qn + best[i], 0));
        }
    }
    xfree(rn);
    xfree(best);
    xfree(dots);
}

Measures measure_images(Tape *T, const Judge *j, const real *x, int n,
                        const FeatureFit *real_fit, int *cls_out, const real *train,
                        int nr, int *nn_idx, double *nn_dist) {
    Measures m = {0};
    const int F = j->cfg.feat;
    real *feat = xmalloc((size_t)n * F * sizeof(real)); /* [n, F] */
    int *cls = cls_out ? cls_out : xmalloc((size_t)n * sizeof(int));
    double *conf = xmalloc((size_t)n * sizeof(double));
    judge_apply(T, j, x, n, feat, cls, conf);
    FeatureFit fit = feature_fit(feat, n, F);
    m.frechet = fit_frechet(real_fit, &fit);
    m.cov = coverage_of(cls, conf, n);
    m.nn_mean = NAN; /* nr = 0: no search asked for */
    if (nr > 0) {
        int *idx = nn_idx ? nn_idx : xmalloc((size_t)n * sizeof(int));
        double *dist = nn_dist ? nn_dist : xmalloc((size_t)n * sizeof(double));
        nearest_neighbours(x, n, train, nr, DCGAN_PIX, idx, dist);
        m.nn_mean = 0;
        for (int i = 0; i < n; i++) m.nn_mean += dist[i];
        m.nn_mean /= n;
        if (!nn_idx) xfree(idx);
        if (!nn_dist) xfree(dist);
    }
    feature_fit_free(&fit);
    xfree(feat);
    if (!cls_out) xfree(cls);
    xfree(conf);
    return m;
}
