/* notebook.h - a chapter is a list of named cells, run like a notebook.
 *
 * Teaches: how to make a long C program explorable. A chapter declares its
 * cells in order; the runtime gives every chapter the same command line:
 *   --step       pause after each cell until Enter (q quits; so does the end of stdin,
 *                with a note on stderr)
 *   --list       list the cells and exit
 *   --cell N     run cells 1..N only (later cells build on earlier ones)
 *   --quick      tiny sizes, for smoke tests
 *   --seed N     the seed of every random draw (default 0)
 *   --out DIR    the run directory (default build/run/<chapter id>)
 *   --data DIR   where the data set lives (default: the Debian package)
 *   --set NAME=VALUE  change one of the chapter's settings (--list shows them);
 *                the run then goes to build/try/<chapter id> unless --out says
 *   --help
 * and records, under the run directory, what each cell printed
 * (cells/<slug>.txt), the figures it declared (cells/<slug>.figs), and the
 * chapter's headline numbers (metrics.tsv: name, value, unit). The book is
 * woven from these records, so it always shows what the code really did:
 * prose names a recorded value as {{name:.3f}} and the weaver fills it in.
 * The record is byte-identical for one seed at any thread count; what
 * depends on the machine (times, speeds, memory) goes to timing.tsv instead,
 * which the book labels as the machine that built it.
 * A setting is a knob a chapter's experiments turn (the learning rate of a
 * short run, a sampling temperature): its default is the value the book's
 * run uses, and --set lets a reader run the changed value themselves.
 * Leaves out: re-running a single cell out of order (cells share state).
 */
#ifndef NOTEBOOK_H
#define NOTEBOOK_H

#include <stdint.h>
#include <stdio.h>

#include "tensor.h"

typedef struct {
    const char *slug;   /* file-name-safe id: the cell's function is cell_<slug> */
    const char *title;
    void (*run)(void);
} Cell;

#define CELL(slug, title) {#slug, title, cell_##slug}

/* A setting: --set name=value gives it another value in [lo, hi] (a whole
 * number when integer is 1). Names are words and spaces-free: "lr", "top-k". */
typedef struct {
    const char *name;
    double value;       /* the default: what the book's run uses */
    double lo, hi;
    int integer;
    const char *what;   /* one line for --list */
} Setting;

typedef struct {
    const char *id;     /* "01-autodiff": the chapter directory's name */
    const char *title;
    const Cell *cells;
    int ncells;
    void (*teardown)(void); /* frees the chapter's state after the last cell run (or NULL) */
} Chapter;

/* The settings --set may change (call from main, before notebook_main). */
void notebook_settings(const Setting *settings, int n);
/* Parse the flags, run the cells, return the exit status (call from main). */
int notebook_main(int argc, char **argv, const Chapter *ch);

/* ---- inside a cell ------------------------------------------------------- */
/* printf to the terminal and to the cell's record. */
__attribute__((format(printf, 1, 2))) void nb_printf(const char *fmt, ...);
int nb_quick(void);              /* --quick given? */
uint64_t nb_seed(void);          /* --seed, default 0 */
const char *nb_out(void);        /* the run directory */
const char *nb_data(void);       /* --data DIR, or NULL for the default */
/* The value of the chapter's setting `name`: its default, or what --set gave. */
double nb_setting(const char *name);
int nb_setting_changed(const char *name); /* did --set change it? */
int nb_recording(void);          /* is stdout not a terminal? (plain progress lines) */
/* Path of a file in the run directory (static buffer: copy it to keep it). */
const char *nb_path(const char *name);
/* Create <out>/<name> for writing figure data. */
FILE *nb_open(const char *name);
/* Write a rows x cols matrix as <out>/<name>: one row per line, values
 * tab-separated with %.6g, after a '# header' line when header is not NULL. */
void nb_write_matrix(const char *name, const char *header, int rows, int cols, const real *m);
/* Declare that this cell drew figure <name> (rendered from plots/<name>.gp
 * or from <out>/<name>.dot) with this caption. */
void nb_figure(const char *name, const char *caption);
/* Write the computation graph of loss as <out>/<name>.dot and declare it. */
void nb_graph(const char *name, const char *caption, Tape *T, Tensor *loss);
/* Record a headline number in metrics.tsv (and print it). */
void nb_metric(const char *name, double value, const char *unit);
/* Record a number in metrics.tsv for the prose to cite, without printing it. */
void nb_value(const char *name, double value, const char *unit);
/* Record a short text (a seed, a list of modes) in metrics.tsv for the prose. */
__attribute__((format(printf, 2, 3))) void nb_text(const char *name, const char *fmt, ...);
/* Record a machine-dependent figure (ms per step, tokens/s, MB) in
 * timing.tsv and print it to the terminal only: never into the record. */
void nb_timing(const char *name, double value, const char *unit);

/* ---- progress of long loops ------------------------------------------------ */
/* On a terminal: one live line (step/total, loss, steps/s, time left) that is
 * not recorded. Always: a plain recorded line at every tenth of the run. */
typedef struct {
    const char *label;
    long total, next_mark;
    double t0, last_draw;
} Progress;

void progress_start(Progress *p, const char *label, long total);
void progress_update(Progress *p, long step, double loss); /* step in 1..total */
void progress_end(Progress *p);

#endif
