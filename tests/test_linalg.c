/* test_linalg.c - Criterion tests of the eigendecomposition, mean_cov and the
 * Fréchet distance (lib/linalg.c).
 *
 * Proves: sym_eig gives a diagonal matrix's own entries (sorted) and unit
 * vectors exactly; the 2 x 2 closed form; for random symmetric matrices
 * (n = 5, 40, 128) V diag(w) V^T rebuilds A, V^T V = I and w ascends; the
 * eigenvalues of I + u u^T (n - 1 equal ones) are found; a NaN matrix is
 * reported as not converged (-1). mean_cov gives a hand-computed mean and
 * unbiased covariance. frechet_distance: a set against itself is 0, against
 * a copy shifted by s it is |s|^2, for diagonal covariances it is
 * sum (sqrt a - sqrt b)^2 + |dmu|^2, and for 2 x 2 covariances that do not
 * commute it matches tr (C1 C2)^{1/2} = sqrt(tr C1 C2 + 2 sqrt(det C1 C2)).
 * Leaves out: speed (the 128 x 128 case prints its time and must converge in
 * at most 15 sweeps: a count, which load cannot change).
 *
 * Tolerances (double precision, u = DBL_EPSILON = 2.2e-16):
 *   - reconstruction and orthogonality: 10 n u |A|_F per entry. Jacobi is
 *     backward stable: each entry is rounded by about u |A| per rotation
 *     that touches it, O(n) rotations per sweep; measured 8e-14 for n = 128
 *     (|A|_F ~ 128), bound 3.6e-12. A wrong rotation sign or angle gives
 *     errors of order |A|.
 *   - eigenvalues against closed forms: 1e-13 |A|_F (sym_eig's stated
 *     accuracy is u |A|_F; the closed forms round too).
 *   - Fréchet distances: 1e-10 (tr C1 + tr C2 + |dmu|^2). The result
 *     subtracts two traces of that size, and the square roots of
 *     eigenvalues near 0 amplify their round-off; measured -5e-12
 *     absolute (2e-14 relative) for the self-distance of 128 unit-variance
 *     features. A wrong square root or a missing factor 2 is off by O(1)
 *     relative.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catch_fail.h"
#include "linalg.h"
#include "rng.h"
#include "util.h"

/* ---- Helpers ------------------------------------------------------------- */

static double *dalloc(long n) { return xcalloc((size_t)n, sizeof(double)); }

static double frobenius(int n, const double *a) {
    double s = 0;
    for (long i = 0; i < (long)n * n; i++) s += a[i] * a[i];
    return sqrt(s);
}

/* A random symmetric matrix, entries N(0, 1). */
static void random_symmetric(Rng *r, int n, double *a) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng_normal(r);
}

/* Decompose a copy of a; check ascending w, V diag(w) V^T = a and V^T V = I
 * within 10 n u |a|_F (header). Returns the sweeps. */
static int check_decomposition(int n, const double *a, const char *label) {
    double *work = dalloc((long)n * n), *w = dalloc(n), *v = dalloc((long)n * n);
    memcpy(work, a, sizeof(double) * n * n);
    int sweeps = sym_eig(n, work, w, v);
    cr_assert(sweeps >= 1, "%s: sym_eig did not converge (returned %d)", label, sweeps);
    double fa = frobenius(n, a), tol = 10.0 * n * DBL_EPSILON * (fa > 0 ? fa : 1);
    double worst_rec = 0, worst_orth = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double rec = 0, dot = 0;
            for (int k = 0; k < n; k++) {
                rec += v[i * n + k] * w[k] * v[j * n + k];
                dot += v[k * n + i] * v[k * n + j];
            }
            worst_rec = fmax(worst_rec, fabs(rec - a[i * n + j]));
            worst_orth = fmax(worst_orth, fabs(dot - (i == j)));
        }
    for (int j = 1; j < n; j++) cr_assert(w[j - 1] <= w[j], "%s: w[%d] = %g > w[%d] = %g", label, j - 1, w[j - 1], j, w[j]);
    cr_assert(worst_rec <= tol, "%s: |V diag(w) V^T - A| up to %.3e > %.3e", label, worst_rec, tol);
    cr_assert(worst_orth <= 10.0 * n * DBL_EPSILON, "%s: |V^T V - I| up to %.3e > %.3e", label, worst_orth,
              10.0 * n * DBL_EPSILON);
    xfree(work), xfree(w), xfree(v);
    return sweeps;
}

/* ---- sym_eig --------------------------------------------------------------- */

/* Nothing to rotate: the diagonal comes back sorted, the vectors are exact
 * unit vectors, in one sweep. */
Test(linalg, eig_of_a_diagonal_matrix_is_its_sorted_diagonal_exactly) {
    double a[16] = {3, 0, 0, 0, 0, -1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0.5};
    double w[4], v[16];
    int sweeps = sym_eig(4, a, w, v);
    double want_w[4] = {-1, 0.5, 2, 3};
    int from[4] = {1, 3, 2, 0}; /* w[j] came from row from[j] */
    cr_assert_eq(sweeps, 1, "a diagonal matrix took %d sweeps", sweeps);
    for (int j = 0; j < 4; j++) {
        cr_assert(w[j] == want_w[j], "w[%d] = %.17g, want %g", j, w[j], want_w[j]);
        for (int k = 0; k < 4; k++)
            cr_assert(v[k * 4 + j] == (k == from[j]), "v[%d][%d] = %g", k, j, v[k * 4 + j]);
    }
}

/* [[p, q], [q, s]]: lambda = (p + s)/2 -+ sqrt(((p - s)/2)^2 + q^2), vector
 * (q, lambda - p) normalised; both signs of q and p < s and p > s. */
Test(linalg, eig_of_2x2_matches_the_closed_form) {
    double cases[4][3] = {{2, 1, 3}, {5, -2, 1}, {-1, 0.25, -1}, {1e3, 1e-3, 1}};
    for (int c = 0; c < 4; c++) {
        double p = cases[c][0], q = cases[c][1], s = cases[c][2];
        double a[4] = {p, q, q, s}, w[2], v[4];
        double fa = sqrt(p * p + 2 * q * q + s * s), tol = 1e-13 * fa;
        sym_eig(2, a, w, v);
        double mid = (p + s) / 2, rad = hypot((p - s) / 2, q), want[2] = {mid - rad, mid + rad};
        for (int j = 0; j < 2; j++) {
            cr_assert(fabs(w[j] - want[j]) <= tol, "case %d: w[%d] = %.17g, want %.17g (diff %.3e > %.3e)", c, j,
                      w[j], want[j], fabs(w[j] - want[j]), tol);
            double ex = q, ey = want[j] - p, en = hypot(ex, ey);
            /* |cos| of the angle between the found and the closed-form vector is 1 */
            double cosang = fabs(v[0 * 2 + j] * ex + v[1 * 2 + j] * ey) / en;
            cr_assert(fabs(cosang - 1) <= 1e-12, "case %d: vector %d is off the closed form (|cos| = %.17g)", c, j,
                      cosang);
        }
    }
}

Test(linalg, eig_of_random_symmetric_matrices_rebuilds_them_with_orthonormal_vectors) {
    static const int sizes[] = {1, 5, 40, 128};
    for (int k = 0; k < 4; k++) {
        int n = sizes[k];
        Rng r;
        rng_seed(&r, 500 + k);
        double *a = dalloc((long)n * n);
        random_symmetric(&r, n, a);
        char label[32];
        snprintf(label, sizeof label, "random %d x %d", n, n);
        double t0 = now_seconds();
        int sweeps = check_decomposition(n, a, label);
        if (n == 128) {
            cr_log_info("sym_eig 128 x 128: %d sweeps, %.3f s (with the checks)", sweeps, now_seconds() - t0);
            cr_assert(sweeps <= 15, "128 x 128 took %d sweeps (Jacobi converges quadratically: 6-10)", sweeps);
        }
        xfree(a);
    }
}

/* I + u u^T has eigenvalue 1 (n - 1 times, a degenerate eigenspace) and
 * 1 + |u|^2 (vector u): the rotations between equal eigenvalues must still
 * converge. */
Test(linalg, eig_finds_a_repeated_eigenvalue) {
    int n = 30;
    Rng r;
    rng_seed(&r, 510);
    double *a = dalloc((long)n * n), *u = dalloc(n), uu = 0;
    for (int i = 0; i < n; i++) {
        u[i] = rng_normal(&r);
        uu += u[i] * u[i];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) a[i * n + j] = (i == j) + u[i] * u[j];
    check_decomposition(n, a, "I + u u^T");
    double *work = dalloc((long)n * n), *w = dalloc(n), *v = dalloc((long)n * n);
    memcpy(work, a, sizeof(double) * n * n);
    sym_eig(n, work, w, v);
    double tol = 1e-13 * frobenius(n, a), worst = fabs(w[n - 1] - (1 + uu));
    for (int j = 0; j < n - 1; j++) worst = fmax(worst, fabs(w[j] - 1));
    cr_assert(worst <= tol, "eigenvalues of I + u u^T off by up to %.3e > %.3e", worst, tol);
    xfree(a), xfree(u), xfree(work), xfree(w), xfree(v);
}

Test(linalg, eig_of_a_matrix_with_nan_reports_no_convergence) {
    double a[9] = {1, 2, 0, 2, NAN, 1, 0, 1, 3}, w[3], v[9];
    int sweeps = sym_eig(3, a, w, v);
    cr_assert_eq(sweeps, -1, "sym_eig of a NaN matrix returned %d, want -1", sweeps);
}

/* ---- mean_cov -------------------------------------------------------------- */

/* rows (1, 2), (3, 4), (5, 0): mean (3, 2); deviations (-2, 0, 2) and
 * (0, 2, -2): variances 8/2 = 4 and 4, covariance -4/2 = -2 (divided by
 * n - 1 = 2). All exact in binary. */
Test(linalg, mean_cov_matches_a_hand_computation) {
    real x[6] = {1, 2, 3, 4, 5, 0};
    double mu[2], cov[4], want_mu[2] = {3, 2}, want_cov[4] = {4, -2, -2, 4};
    mean_cov(3, 2, x, mu, cov);
    for (int i = 0; i < 2; i++) cr_assert(mu[i] == want_mu[i], "mu[%d] = %.17g, want %g", i, mu[i], want_mu[i]);
    for (int i = 0; i < 4; i++) cr_assert(cov[i] == want_cov[i], "cov[%d] = %.17g, want %g", i, cov[i], want_cov[i]);
    EXPECT_FAIL(mean_cov(1, 2, x, mu, cov), EXIT_SOFTWARE, "1 samples");
}

/* ---- frechet_distance -------------------------------------------------------- */

/* n samples of d correlated features: x = z L with z ~ N(0, 1), L random,
 * plus an offset per feature. */
static real *correlated(Rng *r, int n, int d) {
    double *L = dalloc((long)d * d);
    for (long i = 0; i < (long)d * d; i++) L[i] = rng_normal(r) / sqrt(d);
    double *z = dalloc(d), *off = dalloc(d);
    for (int j = 0; j < d; j++) off[j] = rng_normal(r);
    real *x = xmalloc(sizeof(real) * n * d);
    for (int s = 0; s < n; s++) {
        for (int j = 0; j < d; j++) z[j] = rng_normal(r);
        for (int j = 0; j < d; j++) {
            double v = off[j];
            for (int k = 0; k < d; k++) v += z[k] * L[k * d + j];
            x[(long)s * d + j] = (real)v;
        }
    }
    xfree(L), xfree(z), xfree(off);
    return x;
}

static double trace(int d, const double *c) {
    double t = 0;
    for (int i = 0; i < d; i++) t += c[i * d + i];
    return t;
}

static void expect_frechet(double got, double want, double scale, const char *label) {
    double tol = 1e-10 * scale;
    cr_assert(fabs(got - want) <= tol, "%s: Fréchet distance %.17g, want %.17g (diff %.3e > %.3e)", label, got, want,
              fabs(got - want), tol);
}

Test(linalg, frechet_of_a_set_with_itself_is_zero_and_with_a_shifted_copy_is_the_squared_shift) {
    static const int dims[] = {1, 8, 64};
    for (int k = 0; k < 3; k++) {
        int d = dims[k], n = 4 * d + 50;
        Rng r;
        rng_seed(&r, 520 + k);
        real *x = correlated(&r, n, d), *y = xmalloc(sizeof(real) * n * d);
        double *s = dalloc(d), ss = 0;
        for (int j = 0; j < d; j++) {
            s[j] = rng_uniform(&r) - 0.5;
            ss += s[j] * s[j];
        }
        for (long i = 0; i < (long)n * d; i++) y[i] = x[i] + (real)s[i % d];
        double *mu1 = dalloc(d), *c1 = dalloc((long)d * d), *mu2 = dalloc(d), *c2 = dalloc((long)d * d);
        mean_cov(n, d, x, mu1, c1);
        mean_cov(n, d, y, mu2, c2);
        char label[64];
        snprintf(label, sizeof label, "itself, d = %d", d);
        expect_frechet(frechet_distance(d, mu1, c1, mu1, c1), 0, 2 * trace(d, c1), label);
        snprintf(label, sizeof label, "shifted copy, d = %d", d);
        expect_frechet(frechet_distance(d, mu1, c1, mu2, c2), ss, 2 * trace(d, c1) + ss, label);
        xfree(x), xfree(y), xfree(s), xfree(mu1), xfree(c1), xfree(mu2), xfree(c2);
    }
}

Test(linalg, frechet_of_diagonal_covariances_is_the_closed_form) {
    int d = 10;
    Rng r;
    rng_seed(&r, 530);
    double mu1[10], mu2[10], c1[100] = {0}, c2[100] = {0}, want = 0, scale = 0;
    for (int i = 0; i < d; i++) {
        double a = 0.1 + 3 * rng_uniform(&r), b = 0.1 + 3 * rng_uniform(&r);
        c1[i * d + i] = a;
        c2[i * d + i] = b;
        mu1[i] = rng_normal(&r);
        mu2[i] = rng_normal(&r);
        want += (sqrt(a) - sqrt(b)) * (sqrt(a) - sqrt(b)) + (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
        scale += a + b + (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    }
    expect_frechet(frechet_distance(d, mu1, c1, mu2, c2), want, scale, "diagonal covariances");
}

/* For 2 x 2: C1^{1/2} C2 C1^{1/2} has the eigenvalues of C1 C2, and a PSD
 * 2 x 2 matrix M has tr M^{1/2} = sqrt(tr M + 2 sqrt(det M)); so
 * d = |dmu|^2 + tr C1 + tr C2 - 2 sqrt(tr(C1 C2) + 2 sqrt(det C1 det C2)). */
Test(linalg, frechet_of_non_commuting_2x2_covariances_is_the_closed_form) {
    double c1[4] = {2, 0.7, 0.7, 1}, c2[4] = {0.5, -0.3, -0.3, 3}, mu1[2] = {0.5, -1}, mu2[2] = {0, 0.25};
    double tr12 = c1[0] * c2[0] + c1[1] * c2[2] + c1[2] * c2[1] + c1[3] * c2[3];
    double det = (c1[0] * c1[3] - c1[1] * c1[2]) * (c2[0] * c2[3] - c2[1] * c2[2]);
    double dmu = (mu1[0] - mu2[0]) * (mu1[0] - mu2[0]) + (mu1[1] - mu2[1]) * (mu1[1] - mu2[1]);
    double want = dmu + trace(2, c1) + trace(2, c2) - 2 * sqrt(tr12 + 2 * sqrt(det));
    expect_frechet(frechet_distance(2, mu1, c1, mu2, c2), want, dmu + trace(2, c1) + trace(2, c2), "2 x 2");
}

Test(linalg, frechet_of_nan_features_fails_clearly) {
    double c1[4] = {1, 0, 0, NAN}, c2[4] = {1, 0, 0, 1}, mu[2] = {0, 0};
    EXPECT_FAIL(frechet_distance(2, mu, c1, mu, c2), EXIT_DATA, "cov1[3] is nan", "NaN");
}
