/* real.h - the one number type of the whole library.
 *
 * Teaches: why a numerics library fixes its scalar type in one place.
 * The course builds every source twice: with `real` = float (the default,
 * fast, what the chapters run) and with -DREAL_DOUBLE (`real` = double, what
 * the gradient checks run, so finite differences are precise). Nothing else
 * changes between the two builds.
 */
#ifndef REAL_H
#define REAL_H

#ifdef REAL_DOUBLE
typedef double real;
#define REAL_NAME "double"
#define REAL_FMT "%.17g"
#else
typedef float real;
#define REAL_NAME "float"
#define REAL_FMT "%.9g"
#endif

#endif
