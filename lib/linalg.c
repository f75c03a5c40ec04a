/* linalg.c - cyclic Jacobi, mean and covariance, the Fréchet distance; see linalg.h. */
#include "linalg.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "util.h"

#define MAX_SWEEPS 50

/* One Jacobi rotation in the plane (p, q): A <- J^T A J with
 * J = [c s; -s c] in rows/columns p, q, chosen so that the new a_pq is 0.
 * With theta = (a_qq - a_pp) / (2 a_pq), t = tan of the angle is the smaller
 * root of t^2 + 2 t theta - 1 = 0 (the rotation by less than 45 degrees,
 * which moves the other entries least); then c = 1 / sqrt(t^2 + 1), s = t c,
 * and the diagonal changes by exactly -t a_pq and +t a_pq. Only rows and
 * columns p, q change (A stays symmetric, both halves are written), and the
 * same rotation applied to rows p, q of vt accumulates the eigenvectors. */
static void rotate(int n, double *a, double *vt, int p, int q) {
    double app = a[(long)p * n + p], aqq = a[(long)q * n + q], apq = a[(long)p * n + q];
    double theta = (aqq - app) / (2 * apq);
    double t = fabs(theta) > 1e150 ? 1 / (2 * theta) /* theta^2 would overflow */
                                   : (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
    double c = 1 / sqrt(t * t + 1), s = t * c;
    for (int r = 0; r < n; r++) {
        if (r == p || r == q) continue;
        double arp = a[(long)r * n + p], arq = a[(long)r * n + q];
        a[(long)r * n + p] = a[(long)p * n + r] = c * arp - s * arq;
        a[(long)r * n + q] = a[(long)q * n + r] = s * arp + c * arq;
    }
    a[(long)p * n + p] = app - t * apq;
    a[(long)q * n + q] = aqq + t * apq;
    a[(long)p * n + q] = a[(long)q * n + p] = 0;
    double *vp = vt + (long)p * n, *vq = vt + (long)q * n;
    for (int k = 0; k < n; k++) {
        double x = vp[k], y = vq[k];
        vp[k] = c * x - s * y;
        vq[k] = s * x + c * y;
    }
}

int sym_eig(int n, double *a, double *w, double *v) {
    if (n < 1) fail(EXIT_SOFTWARE, "sym_eig", "pass a matrix of at least 1 x 1", "n is %d", n);
    double *vt = xcalloc((size_t)n * n, sizeof(double)); /* row j: eigenvector j */
    for (int i = 0; i < n; i++) vt[(long)i * n + i] = 1;
    double frob = 0;
    for (long i = 0; i < (long)n * n; i++) frob += a[i] * a[i];
    double tol = DBL_EPSILON * sqrt(frob) / n; /* see linalg.h: round-off level */
    int sweeps = 0, rotated;
    do {
        if (sweeps == MAX_SWEEPS) {
            sweeps = -1;
            break;
        }
        sweeps++;
        rotated = 0;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++)
                if (!(fabs(a[(long)p * n + q]) <= tol)) { /* NaN rotates too, then fails to converge */
                    rotate(n, a, vt, p, q);
                    rotated = 1;
                }
    } while (rotated);
    /* sort ascending (insertion sort on an index: n is small, the order fixed) */
    int *idx = xmalloc((size_t)n * sizeof(int));
    for (int j = 0; j < n; j++) {
        int k = j;
        double wj = a[(long)j * n + j];
        while (k > 0 && a[(long)idx[k - 1] * n + idx[k - 1]] > wj) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = j;
    }
    for (int j = 0; j < n; j++) {
        w[j] = a[(long)idx[j] * n + idx[j]];
        for (int k = 0; k < n; k++) v[(long)k * n + j] = vt[(long)idx[j] * n + k];
    }
    xfree(idx);
    xfree(vt);
    return sweeps;
}

void mean_cov(int n, int d, const real *x, double *mu, double *cov) {
    if (n < 2 || d < 1)
        fail(EXIT_SOFTWARE, "mean_cov", "a covariance needs at least 2 samples of at least 1 feature",
             "%d samples of %d features", n, d);
    for (int j = 0; j < d; j++) mu[j] = 0;
    for (long s = 0; s < n; s++)
        for (int j = 0; j < d; j++) mu[j] += x[s * d + j];
    for (int j = 0; j < d; j++) mu[j] /= n;
    /* the upper triangle, sample by sample (cov stays in cache), then mirrored */
    memset(cov, 0, (size_t)d * d * sizeof(double));
    double *dev = xmalloc((size_t)d * sizeof(double));
    for (long s = 0; s < n; s++) {
        for (int j = 0; j < d; j++) dev[j] = x[s * d + j] - mu[j];
        for (int i = 0; i < d; i++) {
            double *ci = cov + (long)i * d, di = dev[i];
            for (int j = i; j < d; j++) ci[j] += di * dev[j];
        }
    }
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) {
            cov[(long)i * d + j] /= n - 1;
            cov[(long)j * d + i] = cov[(long)i * d + j];
        }
    xfree(dev);
}

/* c [n, n] = a [n, n] b [n, n], all row-major. */
static void matmul_sq(int n, const double *a, const double *b, double *c) {
    memset(c, 0, (size_t)n * n * sizeof(double));
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[(long)i * n + k];
            for (int j = 0; j < n; j++) c[(long)i * n + j] += aik * b[(long)k * n + j];
        }
}

/* The eigenvalues w [n] and vectors v of a (copied into work, a unchanged);
 * 0 if Jacobi did not converge. */
static int eig_of_copy(int n, const double *a, double *w, double *v, double *work) {
    memcpy(work, a, (size_t)n * n * sizeof(double));
    return sym_eig(n, work, w, v) >= 0;
}

/* Stop on a non-finite entry of x [n], before anything is allocated. */
static void check_finite(const char *name, const double *x, long n) {
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i]))
            fail(EXIT_DATA, "frechet_distance", "check the features for NaN or infinite values",
                 "%s[%ld] is %g", name, i, x[i]);
}

double frechet_distance(int d, const double *mu1, const double *cov1, const double *mu2, const double *cov2) {
    size_t nn = (size_t)d * d;
    check_finite("mu1", mu1, d), check_finite("cov1", cov1, (long)nn);
    check_finite("mu2", mu2, d), check_finite("cov2", cov2, (long)nn);
    double *w = xmalloc((size_t)d * sizeof(double)), *v = xmalloc(nn * sizeof(double));
    double *s1 = xmalloc(nn * sizeof(double)), *tmp = xmalloc(nn * sizeof(double));
    double *m = xmalloc(nn * sizeof(double));
    /* s1 = C1^{1/2} = V diag(sqrt max(w, 0)) V^T */
    int ok = eig_of_copy(d, cov1, w, v, tmp);
    for (int k = 0; k < d; k++) w[k] = sqrt(fmax(w[k], 0));
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double sum = 0;
            for (int k = 0; k < d; k++) sum += v[(long)i * d + k] * w[k] * v[(long)j * d + k];
            s1[(long)i * d + j] = sum;
        }
    /* m = C1^{1/2} C2 C1^{1/2}, symmetric in exact arithmetic: made so exactly */
    matmul_sq(d, s1, cov2, tmp);
    matmul_sq(d, tmp, s1, m);
    for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++) m[(long)i * d + j] = m[(long)j * d + i] = 0.5 * (m[(long)i * d + j] + m[(long)j * d + i]);
    ok = ok && eig_of_copy(d, m, w, v, tmp);
    double tr_sqrt = 0, tr1 = 0, tr2 = 0, dmu = 0;
    for (int k = 0; k < d; k++) tr_sqrt += sqrt(fmax(w[k], 0));
    for (int i = 0; i < d; i++) {
        tr1 += cov1[(long)i * d + i];
        tr2 += cov2[(long)i * d + i];
        dmu += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    }
    xfree(w), xfree(v), xfree(s1), xfree(tmp), xfree(m);
    if (!ok) /* finite symmetric matrices converge in 6-10 sweeps: a bug, or a matrix not symmetric */
        fail(EXIT_SOFTWARE, "frechet_distance", "pass symmetric covariances (mean_cov makes them)",
             "the eigendecomposition of a %d x %d matrix did not converge in %d sweeps", d, d, MAX_SWEEPS);
    return dmu + tr1 + tr2 - 2 * tr_sqrt;
}
