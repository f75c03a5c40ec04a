/* notebook.c - the cell runner, its records, and progress lines; see notebook.h. */
#include "notebook.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "dot.h"
#include "util.h"

enum { NB_MAX_SETTINGS = 16 };

/* ---------------------------------------------------------------------------
 * The runtime's state: one notebook per process.
 * ------------------------------------------------------------------------- */
static struct {
    const Chapter *ch;
    int quick, step, list, upto;
    uint64_t seed;
    char out[2048];
    const char *data;
    FILE *record;       /* cells/<slug>.txt of the running cell */
    FILE *figs;         /* cells/<slug>.figs of the running cell */
    const Cell *cell;
    char path[4096];
    const Setting *settings; /* notebook_settings */
    int nsettings;
    double setting[NB_MAX_SETTINGS]; /* their values, after --set */
    int changed[NB_MAX_SETTINGS], nchanged, out_given;
} nb;

int nb_quick(void) { return nb.quick; }
uint64_t nb_seed(void) { return nb.seed; }
const char *nb_out(void) { return nb.out; }
const char *nb_data(void) { return nb.data; }
int nb_recording(void) { return !isatty(STDOUT_FILENO); }

void notebook_settings(const Setting *settings, int n) {
    nb.settings = settings;
    nb.nsettings = n;
}

static int setting_index(const char *name) {
    for (int i = 0; i < nb.nsettings; i++)
        if (!strcmp(nb.settings[i].name, name)) return i;
    return -1;
}

double nb_setting(const char *name) {
    int i = setting_index(name);
    if (i < 0)
        fail(EXIT_SOFTWARE, name, "declare it in the settings the chapter's main passes to notebook_settings",
             "a cell asked for a setting the chapter does not declare");
    return nb.setting[i];
}

int nb_setting_changed(const char *name) {
    int i = setting_index(name);
    return i >= 0 && nb.changed[i];
}

void nb_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (nb.record) {
        va_start(ap, fmt);
        vfprintf(nb.record, fmt, ap);
        va_end(ap);
    }
}

const char *nb_path(const char *name) {
    int n = snprintf(nb.path, sizeof nb.path, "%s/%s", nb.out, name);
    if (n < 0 || (size_t)n >= sizeof nb.path)
        fail(EXIT_USAGE, "--out", "pass a shorter --out directory",
             "the path %s/%s is too long to hold", nb.out, name);
    return nb.path;
}

FILE *nb_open(const char *name) { return xfopen(nb_path(name), "w", "check that --out names a writable directory"); }

void nb_write_matrix(const char *name, const char *header, int rows, int cols, const real *m) {
    FILE *f = nb_open(name);
    if (header) fprintf(f, "# %s\n", header);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) fprintf(f, "%.6g%c", (double)m[(long)i * cols + j], j + 1 < cols ? '\t' : '\n');
    fclose(f);
}

void nb_figure(const char *name, const char *caption) {
    if (nb.figs) fprintf(nb.figs, "%s\t%s\n", name, caption);
}

void nb_graph(const char *name, const char *caption, Tape *T, Tensor *loss) {
    char file[256];
    snprintf(file, sizeof file, "%s.dot", name);
    FILE *f = nb_open(file);
    dot_write(f, T, loss, caption);
    fclose(f);
    nb_figure(name, caption);
}

/* One row name<TAB>value<TAB>unit appended to a run file. Values are
 * written with 17 significant digits, so a placeholder's format rounds the
 * same number the cell printed. */
static void append_row(const char *file, const char *name, const char *value, const char *unit) {
    if (strpbrk(name, "\t\n{}") || strpbrk(value, "\t\n") || strpbrk(unit, "\t\n"))
        fail(EXIT_SOFTWARE, name, "name values with words and spaces only",
             "a recorded value's name may not hold a tab, newline or brace");
    FILE *f = xfopen(nb_path(file), "a", "check that --out names a writable directory");
    fprintf(f, "%s\t%s\t%s\n", name, value, unit);
    fclose(f);
}

void nb_value(const char *name, double value, const char *unit) {
    char v[64];
    snprintf(v, sizeof v, "%.17g", value);
    append_row("metrics.tsv", name, v, unit);
}

void nb_metric(const char *name, double value, const char *unit) {
    nb_value(name, value, unit);
    nb_printf("  %-34s %12.6g %s\n", name, value, unit);
}

void nb_text(const char *name, const char *fmt, ...) {
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    append_row("metrics.tsv", name, v, "text");
}

void nb_timing(const char *name, double value, const char *unit) {
    char v[64];
    snprintf(v, sizeof v, "%.6g", value);
    append_row("timing.tsv", name, v, unit);
    printf("  %-34s %12.6g %s  (this machine; not recorded)\n", name, value, unit);
}

/* ---------------------------------------------------------------------------
 * Progress lines.
 * ------------------------------------------------------------------------- */
void progress_start(Progress *p, const char *label, long total) {
    p->label = label;
    p->total = total;
    p->next_mark = (total + 9) / 10;
    p->t0 = now_seconds();
    p->last_draw = 0;
}

void progress_update(Progress *p, long step, double loss) {
    double t = now_seconds(), el = t - p->t0, rate = step / (el > 1e-9 ? el : 1e-9);
    double left = (p->total - step) / rate;
    if (!nb_recording() && (t - p->last_draw > 0.1 || step == p->total)) {
        /* the live line: terminal only, never in the record */
        printf("\r  %s %ld/%ld  loss %.4f  %.1f steps/s  %d:%02d left ", p->label, step, p->total, loss, rate,
               (int)left / 60, (int)left % 60);
        fflush(stdout);
        p->last_draw = t;
    }
    if (step >= p->next_mark || step == p->total) {
        if (!nb_recording()) printf("\r\033[K"); /* clear the live line */
        nb_printf("  %s %6ld/%ld  loss %.4f\n", p->label, step, p->total, loss);
        p->next_mark += (p->total + 9) / 10;
    }
}

void progress_end(Progress *p) {
    double el = now_seconds() - p->t0;
    /* speed goes to the terminal only: the record must not change run to run */
    if (!nb_recording()) printf("\r\033[K");
    printf("  (%s: %ld steps in %.1f s, %.1f steps/s)\n", p->label, p->total, el, p->total / (el > 1e-9 ? el : 1e-9));
}

/* ---------------------------------------------------------------------------
 * The command line.
 * ------------------------------------------------------------------------- */
static void usage(FILE *f, const char *prog) {
    fprintf(f,
            "usage: %s [--step] [--list] [--cell N] [--quick] [--seed N] [--out DIR] [--data DIR]\n"
            "          [--set NAME=VALUE]... [--help]\n"
            "  %s: %s\n"
            "  --step      pause after each cell until Enter (q then Enter quits)\n"
            "  --list      list the cells and exit\n"
            "  --cell N    run cells 1..N only\n"
            "  --quick     tiny sizes, for a smoke test\n"
            "  --seed N    seed of every random draw (default 0)\n"
            "  --out DIR   run directory for outputs (default build/run/%s)\n"
            "  --data DIR  where the data set lives (default: the Debian package's directory)\n"
            "  --set NAME=VALUE  change a setting the experiments turn (--list shows them);\n"
            "              the run goes to build/try/%s unless --out says otherwise\n",
            prog, nb.ch->id, nb.ch->title, nb.ch->id, nb.ch->id);
}

static void bad_usage(const char *prog, const char *fmt, const char *arg) {
    fprintf(stderr, "error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr, prog);
    exit(EXIT_USAGE);
}

static void list_settings(FILE *f) {
    for (int i = 0; i < nb.nsettings; i++) {
        const Setting *s = &nb.settings[i];
        fprintf(f, "  --set %s=%-8g %s (%g..%g%s)\n", s->name, s->value, s->what, s->lo, s->hi,
                s->integer ? ", whole" : "");
    }
}

/* --set NAME=VALUE: a declared setting, a number in its range. */
static void parse_setting(const char *prog, const char *arg) {
    if (!arg) bad_usage(prog, "%s needs NAME=VALUE", "--set");
    const char *eq = strchr(arg, '=');
    char name[128];
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    int i = setting_index(name);
    if (!eq || i < 0) {
        fprintf(stderr, "error: --set '%s': %s\n", arg,
                !eq ? "write NAME=VALUE" : "the chapter has no setting of that name");
        if (nb.nsettings) {
            fprintf(stderr, "the settings of %s:\n", nb.ch->id);
            list_settings(stderr);
        } else fprintf(stderr, "%s has no settings\n", nb.ch->id);
        exit(EXIT_USAGE);
    }
    const Setting *s = &nb.settings[i];
    char *end;
    double v = strtod(eq + 1, &end);
    if (eq[1] == '\0' || *end != '\0' || !isfinite(v) || v < s->lo || v > s->hi || (s->integer && v != floor(v))) {
        fprintf(stderr, "error: --set %s: %s wants %s in %g..%g, not '%s'\n", arg, s->name,
                s->integer ? "a whole number" : "a number", s->lo, s->hi, eq + 1);
        exit(EXIT_USAGE);
    }
    nb.setting[i] = v;
    nb.changed[i] = v != s->value;
}

static long parse_number(const char *prog, const char *flag, const char *s, long lo, long hi) {
    char *end;
    if (!s) bad_usage(prog, "%s needs a value", flag);
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s wants a whole number in %ld..%ld, not '%%s'", flag, lo, hi);
        bad_usage(prog, msg, s);
    }
    return v;
}

static void parse_args(int argc, char **argv) {
    const char *prog = argv[0];
    snprintf(nb.out, sizeof nb.out, "build/run/%s", nb.ch->id);
    nb.upto = nb.ch->ncells;
    if (nb.nsettings > NB_MAX_SETTINGS)
        fail(EXIT_SOFTWARE, nb.ch->id, "declare fewer settings, or raise NB_MAX_SETTINGS in lib/notebook.c",
             "the chapter declares %d settings", nb.nsettings);
    for (int i = 0; i < nb.nsettings; i++) nb.setting[i] = nb.settings[i].value;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--step")) nb.step = 1;
        else if (!strcmp(a, "--list")) nb.list = 1;
        else if (!strcmp(a, "--quick")) nb.quick = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, prog);
            exit(0);
        } else if (!strcmp(a, "--cell")) nb.upto = (int)parse_number(prog, a, i + 1 < argc ? argv[++i] : NULL, 1, nb.ch->ncells);
        else if (!strcmp(a, "--set")) parse_setting(prog, i + 1 < argc ? argv[++i] : NULL);
        else if (!strcmp(a, "--seed")) nb.seed = (uint64_t)parse_number(prog, a, i + 1 < argc ? argv[++i] : NULL, 0, 2147483647L);
        else if (!strcmp(a, "--out") || !strcmp(a, "--data")) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') bad_usage(prog, "%s needs a directory", a);
            if (!strcmp(a, "--out")) {
                /* room for the longest file name a chapter writes under it */
                if (strlen(argv[i + 1]) + 256 >= sizeof nb.out) bad_usage(prog, "--out '%.80s...' is too long; pass a shorter path", argv[i + 1]);
                snprintf(nb.out, sizeof nb.out, "%s", argv[++i]);
                nb.out_given = 1;
            } else nb.data = argv[++i];
        } else bad_usage(prog, "unknown flag '%s'", a);
    }
    for (int i = 0; i < nb.nsettings; i++) nb.nchanged += nb.changed[i];
    /* a changed setting is not the book's run: keep it out of build/run/ */
    if (nb.nchanged && !nb.out_given) snprintf(nb.out, sizeof nb.out, "build/try/%s", nb.ch->id);
}

/* ---------------------------------------------------------------------------
 * Running the cells.
 * ------------------------------------------------------------------------- */
static FILE *open_record(const char *slug, const char *ext) {
    char name[256];
    snprintf(name, sizeof name, "cells/%s.%s", slug, ext);
    return nb_open(name);
}

int notebook_main(int argc, char **argv, const Chapter *ch) {
    nb.ch = ch;
    parse_args(argc, argv);
    if (nb.list) {
        for (int i = 0; i < ch->ncells; i++) printf("%2d  %-22s %s\n", i + 1, ch->cells[i].slug, ch->cells[i].title);
        if (nb.nsettings) {
            printf("settings (the default is what the book's run uses):\n");
            list_settings(stdout);
        }
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/cells", nb.out);
    make_dirs(dir);
    fclose(nb_open("metrics.tsv")); /* start this run's record afresh */
    fclose(nb_open("timing.tsv"));
    FILE *list = nb_open("cells.list");
    for (int i = 0; i < ch->ncells; i++) fprintf(list, "%d\t%s\t%s\n", i + 1, ch->cells[i].slug, ch->cells[i].title);
    fclose(list);
    printf("# %s: %s%s (seed %llu, output in %s)\n", ch->id, ch->title, nb.quick ? " [quick]" : "",
           (unsigned long long)nb.seed, nb.out);
    for (int i = 0; i < nb.nsettings; i++)
        if (nb.changed[i]) printf("# --set %s=%g (the book's run: %g)\n", nb.settings[i].name, nb.setting[i],
                                  nb.settings[i].value);
    double t_all = now_seconds();
    for (int i = 0; i < nb.upto; i++) {
        const Cell *c = &ch->cells[i];
        printf("\n## [%d/%d] %s\n", i + 1, ch->ncells, c->title);
        nb.cell = c;
        nb.record = open_record(c->slug, "txt");
        nb.figs = open_record(c->slug, "figs");
        double t0 = now_seconds();
        c->run();
        fclose(nb.record);
        fclose(nb.figs);
        nb.record = nb.figs = NULL;
        printf("  (cell %d took %.2f s)\n", i + 1, now_seconds() - t0);
        if (nb.step && i + 1 < nb.upto) {
            printf("-- press Enter for cell %d (%s), or q then Enter to stop: ", i + 2, ch->cells[i + 1].title);
            fflush(stdout);
            char line[64];
            if (!fgets(line, sizeof line, stdin)) {
                /* no one is there to press Enter: say why the run stops here */
                fprintf(stderr, "\n--step: standard input ended, so the run stops after cell %d of %d "
                                "(run without --step to run every cell)\n", i + 1, nb.upto);
                break;
            }
            if (line[0] == 'q') break;
        }
    }
    if (ch->teardown) ch->teardown();
    double wall = now_seconds() - t_all;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\n");
    nb_timing("wall time of the run", wall, "s");
    nb_timing("peak memory (max RSS)", ru.ru_maxrss / 1024.0, "MB");
    /* CPU time over wall time: how many cores the run kept busy on average
     * (below the thread count, the rest waited: serial code, barriers, I/O).
     * This process's only: under mpirun, each rank is a process of its own. */
    const double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                       1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    nb_timing("CPU time of this process (all its threads)", cpu, "s");
    nb_timing("cores it kept busy (its CPU time / wall time)", wall > 0 ? cpu / wall : 0,
              "");
    printf("# done in %.1f s\n", wall);
    return 0;
}
