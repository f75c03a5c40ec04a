/* linalg.h - a symmetric eigendecomposition, and the Fréchet distance it serves.
 *
 * Teaches: how to measure a generator the way FID does. Fit a Gaussian to
 * features of real images (mean mu1, covariance C1) and another to features
 * of generated images (mu2, C2); the Fréchet (2-Wasserstein) distance
 * between two Gaussians is
 *     |mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2}),
 * zero only when the two fits agree. The matrix square roots come from an
 * eigendecomposition: a symmetric positive semi-definite S = V diag(w) V^T
 * has S^{1/2} = V diag(sqrt w) V^T. The eigendecomposition is cyclic Jacobi:
 * sweep over every off-diagonal pair (p, q), and rotate rows and columns
 * p, q by the angle that zeroes a_pq. Each rotation keeps the matrix
 * similar (same eigenvalues) and lowers the off-diagonal sum of squares by
 * 2 a_pq^2, so the matrix tends to diagonal; convergence is quadratic once
 * the entries are small. Jacobi is slower than Householder + QR (the LAPACK
 * way) by a constant factor, but it is thirty lines, and it finds small
 * eigenvalues to high relative accuracy.
 * Leaves out: non-symmetric matrices, LAPACK's tridiagonal QR and
 * divide-and-conquer, anything larger than a few hundred rows (Jacobi is
 * O(n^3) per sweep with 6-10 sweeps: about 0.1 s for n = 128).
 *
 * Everything here is double precision, whatever `real` is: the statistics
 * sum thousands of products, and the square roots subtract nearly equal
 * traces. Only mean_cov reads `real` data (features from the model), which
 * is float in the float build and double in the double build.
 * Threads: none. Every sum runs in one fixed order, so the same inputs give
 * the same bits at any thread count.
 */
#ifndef LINALG_H
#define LINALG_H

#include "real.h"

/* The eigendecomposition of the symmetric n x n matrix a (row-major; only
 * its symmetry is assumed, not checked; destroyed). w [n]: the eigenvalues,
 * ascending. v [n * n], row-major: column j is the unit eigenvector of w[j],
 * so a = V diag(w) V^T. Returns the number of sweeps made (the last of them
 * found nothing left to rotate), or -1 if 50 sweeps did not converge
 * (w and v then hold the last iterate).
 * Converged means: every off-diagonal |a_pq| <= DBL_EPSILON * |A|_F / n.
 * Pairs below that are skipped; above it they are rotated to zero. Then the
 * whole off-diagonal part has Frobenius norm <= DBL_EPSILON * |A|_F, the
 * round-off of A's own entries, so (Weyl's inequality) each eigenvalue is
 * within DBL_EPSILON * |A|_F of the exact one. A stricter test could never
 * be met: each rotation itself rounds entries by about that much. Jacobi
 * converges quadratically, so well-behaved matrices take 6-10 sweeps. */
int sym_eig(int n, double *a, double *w, double *v);

/* The mean mu [d] and the unbiased covariance cov [d * d] (row-major,
 * divided by n - 1) of the n rows of x [n, d], summed in double (two passes:
 * the mean first, then products of deviations from it, which is stable).
 * n must be at least 2. `real` is float in the float build, double in the
 * double build. */
void mean_cov(int n, int d, const real *x, double *mu, double *cov);

/* |mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2}) for two
 * Gaussians in d dimensions (cov1, cov2 symmetric d x d, row-major; not
 * changed). tr (C1^{1/2} C2 C1^{1/2})^{1/2} is the sum of the square roots
 * of that matrix's eigenvalues: the matrix is positive semi-definite, so a
 * negative eigenvalue can only be round-off (tiny, of order
 * DBL_EPSILON * its norm) and is clamped to 0, as is any in C1 before its
 * square root. The result is not clamped: for two identical fits it is 0 up
 * to round-off, which may be a tiny negative number (measured -2e-11 for
 * 10,000 samples of 128 features, tr C = 670). With a singular covariance
 * (fewer samples than features) that round-off grows: eigenvalues that
 * should be 0 come out as about DBL_EPSILON |M|, and their square roots
 * add up (measured -9e-6 for 50 samples of 128 features). Fit many more
 * samples than features; a feature that is always 0 is harmless.
 * A NaN or infinite entry in any input stops the program (EXIT_DATA, naming
 * the entry) before anything is computed. */
double frechet_distance(int d, const double *mu1, const double *cov1, const double *mu2, const double *cov2);

#endif
