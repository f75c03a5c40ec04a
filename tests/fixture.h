/* fixture.h - load the PyTorch reference fixtures of tests/reference/.
 *
 * Teaches: how a test proves that a C model is the *intended* model. A
 * gradient check proves backward matches forward; it cannot prove forward
 * is the right function. So a small PyTorch script (tests/reference/<m>.py)
 * writes weights, inputs, outputs, losses and gradients of the same model,
 * in float64, to a text file (tests/reference/<m>.txt, committed), and the
 * C model's tests load that file here and must reproduce it.
 * Leaves out: anything torch-specific. The tests never need PyTorch.
 *
 * File format (text, diff-able):
 *
 *   # free comment lines start with '#'
 *   tensor <name> <ndim> <d0> [<d1> ...]
 *   <values, whitespace separated, row-major, any line breaks>
 *
 * Values are written with %.17g from float64 tensors, so strtod gives back
 * the exact double. Integer tensors (token ids) are stored the same way; read
 * them as (int)t->data[i]. Names are PyTorch state_dict names ("fc1.weight"),
 * "grad.<name>" for gradients, and the inputs/outputs listed in
 * tests/reference/README.md, which also states every layout and reduction.
 *
 * This module is plain C11 and depends on nothing in lib/: all values are
 * double, whatever `real` is.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

/* Where the committed fixtures live, relative to the repository root (the
 * directory the tests run from). Override with -DFIXTURE_DIR=... */
#ifndef FIXTURE_DIR
#define FIXTURE_DIR "tests/reference"
#endif

#define FIXTURE_MAX_DIMS 4

typedef struct {
    char name[96];                /* e.g. "h.0.attn.c_attn.weight"          */
    int ndim;                     /* 1..4                                    */
    int shape[FIXTURE_MAX_DIMS];  /* shape[0..ndim); unused entries are 1   */
    long size;                    /* product of shape = number of values    */
    double *data;                 /* [size], row-major                       */
} FixTensor;

typedef struct {
    int n;                        /* number of tensors, in file order        */
    FixTensor *t;                 /* [n]                                     */
    char path[512];               /* the file it came from, for messages     */
} Fixture;

/* Reads a whole fixture file. On a missing or corrupt file: a message on
 * stderr naming the file, what is wrong and how to regenerate it (run the
 * script beside it), then exit(66). Never returns NULL. */
Fixture *fixture_load(const char *path);

/* The tensor called `name`. A missing name: a message naming it and the
 * file, then exit(65). Never returns NULL. */
const FixTensor *fixture_get(const Fixture *f, const char *name);

/* Frees everything fixture_load allocated. NULL is allowed. */
void fixture_free(Fixture *f);

#endif
