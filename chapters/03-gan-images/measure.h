/* measure.h - three measurements of a generator's samples, through the
 * judge of judge.h: a Fréchet distance in its features, its class
 * coverage, and memorisation (distance to the nearest training image).
 *
 * Teaches: how GAN samples are measured, and what each number can and
 * cannot see.
 *   - The Fréchet distance is the FID recipe (Heusel et al., NeurIPS 2017)
 *     with the judge's 128 penultimate features in place of Inception-v3's
 *     2048: fit a Gaussian to the features of real test images and one to
 *     the generated ones, and compute the distance between the two fits
 *     (lib/linalg.h). It sees quality and variety at once, but only through
 *     what the judge learned to look at.
 *   - Coverage is the judge's class histogram of the samples: how many of
 *     the ten classes appear, the KL divergence from a uniform histogram (the
 *     test set is uniform: 1,000 per class), and the judge's mean confidence.
 *     Mode collapse on images shows here as missing or tiny classes.
 *   - Memorisation: the Euclidean pixel distance from each sample to its
 *     nearest training image, against the same for real test images. A
 *     generator that copies its training set would sit below the test
 *     images; one that draws new garments sits at or above them.
 * Leaves out: the Inception Score, precision and recall of distributions,
 * and any feature network but the judge.
 *
 * Dimension key: n = images measured, F = feature width, K = 10 classes,
 * PIX = 784, R = reference images (the training set).
 */
#ifndef MEASURE_H
#define MEASURE_H

#include "judge.h"

/* The Gaussian fit of n feature rows f [n, F]: mean [F], covariance [F, F]
 * (unbiased), in double. Owns its arrays. */
typedef struct {
    int dim;
    double *mu, *cov;
} FeatureFit;

FeatureFit feature_fit(const real *f, int n, int dim); /* n >= 2 */
void feature_fit_free(FeatureFit *fit);
/* The Fréchet distance between two fits of the same width. */
double fit_frechet(const FeatureFit *a, const FeatureFit *b);

/* The judge's class histogram of n images. */
typedef struct {
    int n;
    long count[JUDGE_CLASSES];
    int present;               /* classes with at least one image */
    double kl_uniform;         /* sum_k p_k log(K p_k), nats; 0 for a uniform histogram */
    double min_share;          /* the rarest class's share of n */
    double mean_conf;          /* mean of each image's top class probability */
} Coverage;

Coverage coverage_of(const int *cls, const double *conf, int n);

/* For each of nq images q [nq, d], the index idx[nq] of its nearest image
 * in ref [nr, d] and the Euclidean distance dist[nq] to it. The squared
 * distances come from |q|^2 + |r|^2 - 2 q.r, with every q.r of a block of
 * queries against a block of references in one gemm (lib/gemm.h): the
 * whole search is a matrix multiply, [nq, d] by [d, nr]. Ties go to the
 * lower index. Deterministic at any thread count. */
void nearest_neighbours(const real *q, int nq, const real *ref, int nr, int d, int *idx, double *dist);

/* All three for one set of n images x [n, 784] in [-1, 1]. */
typedef struct {
    double frechet;            /* against real_fit (the test images' features) */
    Coverage cov;
    double nn_mean;            /* mean distance to the nearest training image */
} Measures;

/* T: a scratch tape for the judge (judge_apply).
 * cls [n] (or NULL) receives the judge's class of each image.
 * nn_idx and nn_dist [n] (either may be NULL) receive each image's nearest
 * training image and the distance to it. train [nr, 784] in [-1, 1];
 * nr = 0 skips the search (nn_mean is then NaN). */
Measures measure_images(Tape *T, const Judge *j, const real *x, int n, const FeatureFit *real_fit, int *cls,
                        const real *train, int nr, int *nn_idx, double *nn_dist);

#endif
