/* weave: turns one chapter's literate C sources into Markdown for the book.
 *
 * What it does (the convention is DESIGN.md's "Literate source"):
 *   - reads chapters/NN-slug/chapter.c, then the other .c files of that
 *     directory in file-name order (.h files are not woven);
 *   - a block comment that opens with a line that is exactly "/\*md" and
 *     closes with a line that is exactly "*\/" is raw Markdown prose;
 *   - everything between prose blocks is C code, written as a ```c block
 *     (runs of blank lines only are dropped);
 *   - a cell is "static void cell_<slug>(void)" at column 0; its body ends at
 *     the first following line that is exactly "}". Right after it the weaver
 *     inserts what the cell printed in the last run
 *     (RUN/cells/<slug>.txt) and the figures it declared (RUN/cells/<slug>.figs,
 *     one "<figure-name>\t<caption>" per line, drawn as FIG/<figure-name>.svg).
 *   - the page title is the first Markdown heading of chapter.c's first prose
 *     block (it becomes the page title and is removed from the body).
 *
 * Nothing is pasted by hand: a missing output or figure is an error that names
 * the file, and the weaver writes nothing. All the errors are reported, not
 * just the first.
 *
 * Figures in prose come from the run, by name. A placeholder
 *     {{name}}  {{name:FMT}}  {{NN/name:FMT}}
 * is replaced by the value the run recorded under that name (metrics.tsv:
 * nb_metric, nb_value, nb_text), formatted with printf's %FMT (FMT is one
 * conversion without the '%': .1f, .3g, .2e, .0f; a leading ' groups
 * thousands with commas: '.0f gives 10,000). NN/ reads chapter NN's record.
 * A name found only in timing.tsv (what depends on the machine) is filled in
 * with a mark that links to the chapter's "on the machine that built this
 * book" table. A name with no value is an error that names it.
 * The same filling works on the hand-written pages (--page).
 *
 * Experiments: in prose, the lines between "::: outcome" (optionally followed
 * by the summary's text) and ":::" are the outcome of an experiment, hidden
 * until the reader opens it: they become <details><summary>...</summary>.
 * An outcome comes from the run, so it must hold at least one placeholder.
 * The output of an experiment's cell (cell_exp_<name>) and the figures the
 * run recorded under names beginning "exp " are hidden the same way.
 *
 * Constants in prose: a decimal figure (a number with a decimal point, an
 * exponent, or a following %) outside math ($...$), code (`...`), link
 * targets and placeholders is reported by --check-prose: in prose it is
 * either a run figure (make it a placeholder) or a constant of the model or
 * method (write it as math, $0.02$, or code). make check runs it on every
 * chapter.
 *
 * Text from a run is cleaned defensively: escape sequences and control codes
 * are removed, a line rewritten with \r keeps only what a terminal would show
 * last, tabs become spaces (stops every 8 columns), invalid UTF-8 becomes
 * U+FFFD. Pandoc needs valid UTF-8, and a byte-level GPT may print anything.
 *
 * Usage: weave [--run DIR] [--fig DIR] [--figurl URL] [-o OUT.md] CHAPTER_DIR
 *        weave --title CHAPTER_DIR        print the chapter title and exit
 *        weave --check-prose CHAPTER_DIR  list the decimal figures typed in prose
 *        weave --page PAGE.md --runs DIR [-o OUT.md]  fill a hand-written page
 * Defaults: --run build/run/<basename of CHAPTER_DIR>, --fig build/fig,
 *           --figurl fig (the figures' URL prefix as seen from the page).
 *
 * Leaves out: any Markdown processing of its own (pandoc does that), and
 * any C parsing beyond the line patterns above.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- buffers */

typedef struct {
    char *p;    /* [cap] bytes, p[n] == '\0' */
    size_t n, cap;
} Buf;

static void die_oom(void)
{
    fprintf(stderr, "weave: out of memory\n");
    exit(2);
}

static void buf_grow(Buf *b, size_t extra)
{
    if (b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) die_oom();
    b->p = p;
    b->cap = cap;
}

static void buf_addn(Buf *b, const char *s, size_t n)
{
    if (n > PTRDIFF_MAX) die_oom(); /* never; tells GCC's -Wstringop-overflow so */
    buf_grow(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_add(Buf *b, const char *s) { buf_addn(b, s, strlen(s)); }

static void buf_addc(Buf *b, char c) { buf_addn(b, &c, 1); }

static void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    char probe[1];
    va_start(ap, fmt);
    int n = vsnprintf(probe, sizeof probe, fmt, ap);   /* the length it needs */
    va_end(ap);
    if (n < 0) return;
    buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

static void buf_free(Buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ----------------------------------------------------------------- errors */

static int n_errors;

static void error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weave: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    n_errors++;
}

static void warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weave: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads a whole file; returns 0 if it cannot be opened. */
static int read_file(const char *path, Buf *out)
{
    if (!file_exists(path)) { errno = ENOENT; return 0; } /* not a directory or a FIFO */
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) buf_addn(out, chunk, k);
    int bad = ferror(f);
    fclose(f);
    if (bad) return 0;
    if (!out->p) buf_add(out, "");
    return 1;
}

/* --------------------------------------------------------------- cleaning */

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; *cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; *cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; *cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return len;
}

/* Stage 1: valid UTF-8 only; escape sequences (CSI, OSC, two-byte ESC) and
 * control codes other than \n, \r and \t removed, C1 controls too. */
static void strip_controls(const char *in, size_t n, Buf *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0x1B) {                      /* ESC */
            i++;
            if (i >= n) break;
            if (s[i] == '[') {                /* CSI: params, intermediates, final */
                i++;
                while (i < n && s[i] >= 0x20 && s[i] <= 0x3F) i++;
                if (i < n && s[i] >= 0x40 && s[i] <= 0x7E) i++;
            } else if (s[i] == ']' || s[i] == 'P' || s[i] == '_' || s[i] == '^') {
                i++;                          /* OSC/DCS/APC/PM: up to BEL or ESC \ */
                while (i < n && s[i] != 0x07 && !(s[i] == 0x1B && i + 1 < n && s[i + 1] == '\\'))
                    i++;
                if (i < n) i += (s[i] == 0x07) ? 1 : 2;
            } else {
                i++;                          /* ESC + one byte */
            }
            continue;
        }
        if (c == '\n' || c == '\r' || c == '\t') { buf_addc(out, (char)c); i++; continue; }
        if (c < 0x20 || c == 0x7F) { i++; continue; }
        unsigned cp;
        size_t len = utf8_len(s + i, n - i, &cp);
        if (len == 0) { buf_add(out, "\xEF\xBF\xBD"); i++; continue; }
        if (cp >= 0x80 && cp <= 0x9F) { i += len; continue; }
        buf_addn(out, in + i, len);
        i += len;
    }
}

/* Stage 2, one line (no \n): keep the last \r-segment that is not blank,
 * expand tabs, drop trailing blanks. */
static void clean_line(const char *line, size_t n, Buf *out)
{
    size_t start = 0, end = n;
    size_t seg_start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || line[i] == '\r') {
            int blank = 1;
            for (size_t j = seg_start; j < i; j++)
                if (line[j] != ' ' && line[j] != '\t') { blank = 0; break; }
            if (!blank) { start = seg_start; end = i; }
            seg_start = i + 1;
        }
    }
    if (start == 0 && end == n) {              /* no non-blank segment found, or no \r */
        int has_cr = memchr(line, '\r', n) != NULL;
        if (has_cr) { start = end = 0; }
    }
    size_t col = 0, keep = out->n;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\t') {
            do { buf_addc(out, ' '); col++; } while (col % 8);
            continue;
        }
        buf_addc(out, (char)c);
        if ((c & 0xC0) != 0x80) col++;         /* count code points, not bytes */
        if (c != ' ') keep = out->n;
    }
    out->n = keep;                             /* trailing blanks dropped */
    if (out->p) out->p[out->n] = '\0'; /* a blank first line leaves the buffer unallocated */
}

/* The whole cleaning: text from any source -> clean lines, each ending in \n. */
static void clean_text(const char *in, size_t n, Buf *out)
{
    Buf s1 = {0};
    strip_controls(in, n, &s1);
    buf_add(&s1, "");
    size_t i = 0;
    while (i < s1.n) {
        const char *nl = memchr(s1.p + i, '\n', s1.n - i);
        size_t len = nl ? (size_t)(nl - (s1.p + i)) : s1.n - i;
        clean_line(s1.p + i, len, out);
        buf_addc(out, '\n');
        i += len + 1;
    }
    buf_free(&s1);
    if (!out->p) buf_add(out, "");
}

/* ------------------------------------------------------------- Markdown */

/* A fence longer than any run of backticks in the text. */
static int fence_len(const char *s, size_t n)
{
    int best = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '`') { if (++run > best) best = run; }
        else run = 0;
    }
    return best >= 3 ? best + 1 : 3;
}

static void add_fence(Buf *out, int len)
{
    for (int i = 0; i < len; i++) buf_addc(out, '`');
}

/* Drops leading and trailing blank lines of a block; returns 0 if nothing is left. */
static int trim_block(const char *s, size_t n, size_t *a, size_t *b)
{
    size_t i = 0, first = n, last_end = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
        int blank = 1;
        for (size_t j = 0; j < len; j++)
            if (s[i + j] != ' ' && s[i + j] != '\t') { blank = 0; break; }
        if (!blank) {
            if (first == n) first = i;
            last_end = i + len;
        }
        i += len + 1;
    }
    if (first == n) return 0;
    *a = first;
    *b = last_end;
    return 1;
}

static void emit_code(Buf *out, const char *lang, const char *cls, const Buf *code)
{
    size_t a, b;
    if (!code->p || !trim_block(code->p, code->n, &a, &b)) return;
    int f = fence_len(code->p + a, b - a);
    add_fence(out, f);
    if (cls) buf_printf(out, " {.%s .%s}\n", lang, cls);
    else buf_printf(out, " %s\n", lang);
    buf_addn(out, code->p + a, b - a);
    buf_addc(out, '\n');
    add_fence(out, f);
    buf_add(out, "\n\n");
}

/* ------------------------------------------------------- run figures */

/* The value recorded under `name` in DIR/FILE (rows name\tvalue\tunit).
 * Returns a malloc'd value and sets *unit (malloc'd), or NULL. */
static char *record_lookup(const char *dir, const char *file, const char *name, char **unit)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    Buf raw = {0};
    if (!read_file(path, &raw)) return NULL;
    char *found = NULL, *save = NULL;
    for (char *ln = strtok_r(raw.p, "\n", &save); ln && !found; ln = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(ln, '\t');
        if (!t1 || (size_t)(t1 - ln) != strlen(name) || memcmp(ln, name, strlen(name)) != 0) continue;
        char *v = t1 + 1, *t2 = strchr(v, '\t');
        if (t2) *t2 = '\0';
        found = strdup(v);
        *unit = strdup(t2 ? t2 + 1 : "");
        if (!found || !*unit) die_oom();
    }
    buf_free(&raw);
    return found;
}

/* The run directory of chapter NN beside `run_dir` (RUNS/NN-slug). */
static int sibling_run(const char *runs, const char *nn, char *out, size_t cap)
{
    DIR *d = opendir(runs);
    if (!d) return 0;
    struct dirent *e;
    int ok = 0;
    while (!ok && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, nn, 2) == 0 && e->d_name[2] == '-') {
            int len = snprintf(out, cap, "%s/%.255s", runs, e->d_name);
            ok = len > 0 && (size_t)len < cap && dir_exists(out); /* a path too long to hold is no match */
        }
    closedir(d);
    return ok;
}

/* Is fmt one printf conversion for a number ("'.1f", ".3g", "d")? */
static int valid_format(const char *f)
{
    if (*f == '\'') f++;
    while (*f && strchr("-+ #0", *f)) f++;
    while (*f >= '0' && *f <= '9') f++;
    if (*f == '.') { f++; if (!(*f >= '0' && *f <= '9')) return 0; while (*f >= '0' && *f <= '9') f++; }
    return *f && strchr("fFeEgGd", *f) && f[1] == '\0';
}

/* value formatted by fmt (valid_format), into out. */
static void format_value(double v, const char *fmt, Buf *out)
{
    int group = *fmt == '\'';
    if (group) fmt++;
    char spec[64], num[512];
    size_t L = strlen(fmt);
    if (fmt[L - 1] == 'd') {
        snprintf(spec, sizeof spec, "%%%.*slld", (int)(L - 1), fmt);
        snprintf(num, sizeof num, spec, (long long)llround(v));
    } else {
        snprintf(spec, sizeof spec, "%%%s", fmt);
        snprintf(num, sizeof num, spec, v);
    }
    if (!group) { buf_add(out, num); return; }
    /* thousands separators in the integer part: 12345.6 -> 12,345.6 */
    const char *p = num;
    while (*p && !(*p >= '0' && *p <= '9')) buf_addc(out, *p++);
    size_t digits = strspn(p, "0123456789");
    for (size_t i = 0; i < digits; i++) {
        buf_addc(out, p[i]);
        if ((digits - 1 - i) % 3 == 0 && i + 1 < digits) buf_addc(out, ',');
    }
    buf_add(out, p + digits);
}

/* Replace every {{...}} in text by its recorded value. run_dir is the
 * page's own chapter run (NULL for a hand-written page), runs the directory
 * holding every chapter's run, page_of(NN) the chapter's page for the
 * timing mark. Errors name src:line and the placeholder. */
static void fill_placeholders(const char *text, Buf *out, const char *run_dir, const char *runs,
                              const char *src, int line0)
{
    const char *p = text;
    int line = line0;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) { buf_add(out, p); break; }
        for (const char *q = p; q < open; q++) line += *q == '\n';
        buf_addn(out, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        const char *nl = strchr(open + 2, '\n');
        if (!close || (nl && nl < close)) {
            error("%s:%d: a placeholder '{{' is not closed by '}}' on the same line", src, line);
            buf_add(out, "{{");
            p = open + 2;
            continue;
        }
        char spec[512], orig[512];
        snprintf(spec, sizeof spec, "%.*s", (int)(close - open - 2), open + 2);
        snprintf(orig, sizeof orig, "%s", spec);
        p = close + 2;
        /* [NN/]name[:FMT] */
        char *name = spec, *fmt = NULL, *colon = strrchr(spec, ':');
        if (colon && valid_format(colon + 1)) { *colon = '\0'; fmt = colon + 1; }
        char dir[4200] = "", nn[3] = "";
        if (name[0] >= '0' && name[0] <= '9' && name[1] >= '0' && name[1] <= '9' && name[2] == '/') {
            snprintf(nn, sizeof nn, "%.2s", name);
            name += 3;
            if (!runs || !sibling_run(runs, nn, dir, sizeof dir)) {
                error("%s:%d: {{%s/%s}} needs chapter %s's run, but %s/%s-*/ does not exist. "
                      "Run chapter %s first ('make run-%s').", src, line, nn, name, nn, runs ? runs : "?", nn, nn, nn);
                continue;
            }
        } else if (run_dir) {
            snprintf(dir, sizeof dir, "%s", run_dir);
        } else {
            error("%s:%d: {{%s}} on a page without a chapter: write {{NN/%s}}", src, line, name, name);
            continue;
        }
        char *unit = NULL;
        int timing = 0;
        char *v = record_lookup(dir, "metrics.tsv", name, &unit);
        if (!v && (v = record_lookup(dir, "timing.tsv", name, &unit)) != NULL) timing = 1;
        if (!v) {
            error("%s:%d: {{%s}}: the run recorded no value named '%s' (%s/metrics.tsv, timing.tsv). "
                  "Record it in the chapter with nb_metric/nb_value/nb_text, or fix the name.",
                  src, line, orig, name, dir);
            continue;
        }
        if (strcmp(unit, "text") == 0) {
            if (fmt) error("%s:%d: {{%s}}: '%s' is a text, it takes no format", src, line, orig, name);
            Buf t = {0};
            clean_text(v, strlen(v), &t);
            while (t.n && t.p[t.n - 1] == '\n') t.p[--t.n] = '\0';
            buf_add(out, t.p);
            buf_free(&t);
        } else {
            char *end;
            double x = strtod(v, &end);
            if (end == v) error("%s:%d: {{%s}}: the recorded value '%s' is not a number", src, line, orig, v);
            else format_value(x, fmt ? fmt : ".6g", out);
            if (timing) {
                /* a machine's figure, not the run's: mark it and link to the table */
                const char *base = strrchr(dir, '/');
                base = base ? base + 1 : dir;
                if (run_dir && !nn[0]) buf_add(out, "^[†](#machine-timings)^");
                else buf_printf(out, "^[†](%s.html#machine-timings)^", base);
            }
        }
        free(v);
        free(unit);
    }
}

/* ----------------------------------------------- decimal figures in prose */

/* Report every decimal figure in prose text that is not in math, code, a
 * link target or a placeholder: a number with a decimal point ("93.0"), an
 * exponent ("1e-3") or a following percent sign ("12 %"). Returns the count;
 * each is reported as src:line. Writers mark a constant of the model or the
 * method by writing it as math ($0.02$) or code (`1e-3`); a run's figure is
 * a placeholder. */
static int check_prose_figures_typed(const char *text, const char *src, int line0)
{
    int found = 0, line = line0;
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '\n') { line++; continue; }
        if (c == '\\' && i + 1 < n) { i++; continue; }                /* \$ is a dollar */
        const char *skip_to = NULL;
        if (c == '$') skip_to = (i + 1 < n && text[i + 1] == '$') ? "$$" : "$";
        else if (c == '`') skip_to = "`";
        else if (c == '{' && i + 1 < n && text[i + 1] == '{') skip_to = "}}";
        else if (c == ']' && i + 1 < n && text[i + 1] == '(') skip_to = ")";
        if (skip_to) {
            size_t from = c == ']' ? i + 2 : i + strlen(skip_to);
            const char *e = from <= n ? strstr(text + from, skip_to) : NULL;
            size_t to = e ? (size_t)(e - text) + strlen(skip_to) : n; /* just after the closer */
            for (size_t k = i; k < to; k++) line += text[k] == '\n';
            i = to - 1;
            continue;
        }
        if (!(c >= '0' && c <= '9')) continue;
        /* a digit inside a word (GPT-2, float32, x_1) or after § is not a figure */
        char prev = i ? text[i - 1] : ' ';
        int in_word = (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z') || prev == '_' ||
                      (i >= 2 && (unsigned char)text[i - 2] == 0xC2 && (unsigned char)prev == 0xA7);
        size_t j = i;
        int decimal = 0;
        while (j < n && ((text[j] >= '0' && text[j] <= '9') ||
                         ((text[j] == '.' || text[j] == ',') && j + 1 < n && text[j + 1] >= '0' && text[j + 1] <= '9'))) {
            if (text[j] == '.') decimal = 1;
            j++;
        }
        size_t k = j;
        if (k < n && (text[k] == 'e' || text[k] == 'E')) {
            size_t e = k + 1;
            if (e < n && (text[e] == '-' || text[e] == '+')) e++;
            if (e < n && text[e] >= '0' && text[e] <= '9') { decimal = 1; k = e; while (k < n && text[k] >= '0' && text[k] <= '9') k++; }
        }
        size_t pct = k;
        while (pct < n && text[pct] == ' ') pct++;
        if (pct < n && text[pct] == '%') decimal = 1, k = pct + 1;
        if (decimal && !in_word) {
            fprintf(stderr, "%s:%d: '%.*s' is a figure typed in prose: a run's figure is a placeholder "
                    "{{name:FMT}}; a constant of the model or method is math ($...$) or code\n",
                    src, line, (int)(k - i), text + i);
            found++;
        }
        i = k - 1;
    }
    return found;
}

/* ------------------------------------------------------------- the weave */

typedef struct {
    const char *chapter_dir;   /* chapters/NN-slug */
    const char *run_dir;       /* build/run/NN-slug */
    const char *fig_dir;       /* build/fig */
    const char *fig_url;       /* "fig": URL prefix of figures in the page */
    char nn[3];                /* "NN" */
    Buf cells_list;            /* run_dir/cells.list, may be empty */
    char **woven;              /* slugs seen in the sources */
    size_t n_woven;
    char title[1024];          /* from chapter.c's first heading */
    int title_only;            /* --title: no outputs, no figure checks */
    int check_prose;           /* --check-prose: only report typed figures */
    int typed_figures;         /* how many --check-prose found */
    char runs[4200];           /* the directory of every chapter's run */
} Weave;

static int line_is(const char *line, size_t n, const char *want)
{
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
    return n == strlen(want) && memcmp(line, want, n) == 0;
}

static int is_slug_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* "static void cell_<slug>(void)" at column 0, a definition (not a
 * declaration ending in ';'). Writes the slug. */
static int is_cell_def(const char *line, size_t n, char *slug, size_t slug_cap)
{
    static const char head[] = "static void cell_";
    size_t h = sizeof head - 1;
    if (n <= h || memcmp(line, head, h) != 0) return 0;
    size_t i = h, k = 0;
    while (i < n && is_slug_char(line[i]) && line[i] != '-') {
        if (k + 1 < slug_cap) slug[k++] = line[i];
        i++;
    }
    slug[k] = '\0';
    if (k == 0) return 0;
    while (i < n && line[i] == ' ') i++;
    if (i + 6 <= n && memcmp(line + i, "(void)", 6) == 0) i += 6;
    else if (i + 2 <= n && memcmp(line + i, "()", 2) == 0) i += 2;
    else return 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
    return i == n || line[i] == '{' || line[i] == '/';
}

/* The title line of cell `slug` in cells.list ("<index>\t<slug>\t<title>"):
 * its index and title, cleaned like any text from a run (any length). */
static int cell_title(const Weave *w, const char *slug, Buf *idx, Buf *title)
{
    const char *p = w->cells_list.p;
    if (!p) return 0;
    size_t sl = strlen(slug);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *t1 = memchr(p, '\t', len);
        if (t1) {
            const char *s = t1 + 1;
            const char *t2 = memchr(s, '\t', len - (size_t)(s - p));
            size_t slen = t2 ? (size_t)(t2 - s) : len - (size_t)(s - p);
            int same = slen == sl && memcmp(s, slug, sl) == 0;
            if (!same && slen == sl) {         /* cell_a_b may be recorded as a-b */
                same = 1;
                for (size_t j = 0; j < sl; j++) {
                    char a = s[j] == '-' ? '_' : s[j], b = slug[j] == '-' ? '_' : slug[j];
                    if (a != b) { same = 0; break; }
                }
            }
            if (same) {
                clean_text(p, (size_t)(t1 - p), idx);
                if (t2) clean_text(t2 + 1, len - (size_t)(t2 + 1 - p), title);
                while (idx->n && idx->p[idx->n - 1] == '\n') idx->p[--idx->n] = '\0';
                while (title->n && title->p[title->n - 1] == '\n') title->p[--title->n] = '\0';
                return 1;
            }
        }
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}

/* Path of the recorded file for `slug` with extension `ext`; tries the slug as
 * written and with '_' turned into '-'. Returns 1 if found. */
static int cell_file(const Weave *w, const char *slug, const char *ext, char *path, size_t cap)
{
    snprintf(path, cap, "%s/cells/%s.%s", w->run_dir, slug, ext);
    if (file_exists(path)) return 1;
    char alt[256];
    snprintf(alt, sizeof alt, "%s", slug);
    for (char *c = alt; *c; c++) if (*c == '_') *c = '-';
    char p2[4096];
    snprintf(p2, sizeof p2, "%s/cells/%s.%s", w->run_dir, alt, ext);
    if (file_exists(p2)) { snprintf(path, cap, "%s", p2); return 1; }
    snprintf(path, cap, "%s/cells/%s.%s", w->run_dir, slug, ext);
    return 0;
}

static int valid_fig_name(const char *s)
{
    if (!*s || *s == '.') return 0;
    for (; *s; s++)
        if (!is_slug_char(*s) && *s != '.') return 0;
    return 1;
}

static void emit_figure(Weave *w, Buf *out, const char *name, const char *caption, const char *where)
{
    if (!valid_fig_name(name)) {
        error("%s: figure name '%s' is not a plain file name (letters, digits, '-', '_', '.')", where, name);
        return;
    }
    char svg[4096];
    snprintf(svg, sizeof svg, "%s/%s.svg", w->fig_dir, name);
    if (!file_exists(svg)) {
        error("%s: figure '%s' was not drawn: %s is missing. Draw it with 'make plots' "
              "(from plots/%s.gp, or from a %s/%s.dot written by the run).",
              where, name, svg, name, w->run_dir, name);
        return;
    }
    buf_printf(out, "![%s](%s/%s.svg){#fig-%s}\n\n", *caption ? caption : name, w->fig_url, name, name);
}

/* What cell `slug` printed and drew, right after its closing brace. */
static void emit_cell_output(Weave *w, Buf *out, const char *slug, const char *src, int line_no)
{
    char where[4200], path[4096];
    Buf idx = {0}, title = {0};
    if (w->title_only) return;
    snprintf(where, sizeof where, "%s:%d: cell '%s'", src, line_no, slug);

    char **v = realloc(w->woven, (w->n_woven + 1) * sizeof *v);
    if (!v) die_oom();
    w->woven = v;
    w->woven[w->n_woven] = strdup(slug);
    if (!w->woven[w->n_woven]) die_oom();
    w->n_woven++;

    Buf raw = {0}, txt = {0};
    if (!cell_file(w, slug, "txt", path, sizeof path)) {
        error("%s has no recorded output: %s is missing. Run the chapter first "
              "('make run-%s', or 'make course').", where, path, w->nn);
    } else if (!read_file(path, &raw)) {
        error("%s: cannot read %s: %s", where, path, strerror(errno));
    }
    /* on error, go on: the figures are checked too, so every problem is named */
    clean_text(raw.p ? raw.p : "", raw.n, &txt);
    cell_title(w, slug, &idx, &title);
    size_t a, b;
    int has_text = trim_block(txt.p, txt.n, &a, &b);
    int experiment = strncmp(slug, "exp_", 4) == 0; /* its output is an outcome: hidden */
    if (experiment)
        buf_add(out, "<details class=\"outcome\">\n<summary>What this cell printed in this course's run"
                     "</summary>\n\n");
    buf_printf(out, "::: {#cell-%s .cell-output data-cell=\"%s\"}\n", slug, slug);
    Buf label = {0};
    if (idx.n) buf_printf(&label, "Output of cell %s, *%s*", idx.p, slug);
    else buf_printf(&label, "Output of cell *%s*", slug);
    if (title.n) buf_printf(&label, ": %s", title.p);
    buf_printf(out, "[%s]{.cell-label}\n\n", label.p);
    buf_free(&label);
    buf_free(&idx);
    buf_free(&title);
    if (has_text) {
        Buf body = {0};
        buf_addn(&body, txt.p + a, b - a);
        emit_code(out, "text", "output", &body);
        buf_free(&body);
    } else {
        buf_add(out, "[(this cell printed nothing)]{.no-output}\n\n");
    }
    buf_free(&raw);
    buf_free(&txt);

    if (cell_file(w, slug, "figs", path, sizeof path)) {
        Buf figs_raw = {0}, figs = {0};
        if (!read_file(path, &figs_raw)) {
            error("%s: cannot read %s: %s", where, path, strerror(errno));
        } else {
            strip_controls(figs_raw.p, figs_raw.n, &figs);
            buf_add(&figs, "");
            char *save = NULL;
            int k = 0;
            for (char *ln = strtok_r(figs.p, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
                k++;
                size_t L = strlen(ln);
                while (L && (ln[L - 1] == '\r' || ln[L - 1] == ' ')) ln[--L] = '\0';
                if (!L || ln[0] == '#') continue;
                char *tab = strchr(ln, '\t');
                const char *cap = "";
                if (tab) { *tab = '\0'; cap = tab + 1; }
                char fw[8448];
                snprintf(fw, sizeof fw, "%s (%s line %d)", where, path, k);
                emit_figure(w, out, ln, cap, fw);
            }
        }
        buf_free(&figs_raw);
        buf_free(&figs);
    }
    buf_add(out, ":::\n\n");
    if (experiment) buf_add(out, "</details>\n\n");
}

/* Images the prose itself references as (fig/NAME): they must exist too. */
static void check_prose_figures(Weave *w, const Buf *prose, const char *src, int line_no)
{
    char pat[300];
    if (w->title_only) return;
    snprintf(pat, sizeof pat, "](%s/", w->fig_url);
    const char *p = prose->p;
    while (p && (p = strstr(p, pat)) != NULL) {
        p += strlen(pat);
        size_t len = strcspn(p, ") \n\"");
        char name[1024], path[4096];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        snprintf(path, sizeof path, "%s/%s", w->fig_dir, name);
        if (!file_exists(path))
            error("%s:%d: the prose shows %s/%s, but %s is missing. Draw it with 'make plots'.",
                  src, line_no, w->fig_url, name, path);
    }
}

/* The experiments' outcomes of a prose block: "::: outcome [summary]" ...
 * ":::" lines become a <details> element (see the header). Errors name
 * src:line (when check is set: run it on the prose as written, whose lines
 * they count, then without on the filled prose): an outcome never closed,
 * one inside another, or one that names no recorded value. */
static const char OUTCOME_OPEN[] = "::: outcome";

static void expand_outcomes(const char *text, Buf *out, int check, const char *src, int line0)
{
    int line = line0, open_line = 0, placeholders = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t L = len;
        while (L && (p[L - 1] == ' ' || p[L - 1] == '\t')) L--;
        size_t k = sizeof OUTCOME_OPEN - 1;
        if (L >= k && memcmp(p, OUTCOME_OPEN, k) == 0 && (L == k || p[k] == ' ')) {
            if (open_line && check)
                error("%s:%d: '::: outcome' inside the outcome opened on line %d: close that one with ':::' first",
                      src, line, open_line);
            const char *sum = p + k;
            while (sum < p + L && *sum == ' ') sum++;
            buf_add(out, "\n<details class=\"outcome\">\n<summary>");
            if (sum < p + L) buf_addn(out, sum, (size_t)(p + L - sum));
            else buf_add(out, "The outcome in this course's run");
            buf_add(out, "</summary>\n\n");
            open_line = line;
            placeholders = 0;
        } else if (open_line && L == 3 && memcmp(p, ":::", 3) == 0) {
            if (!placeholders && check)
                error("%s:%d: the outcome opened here names no recorded value: an outcome comes from the run, "
                      "so write its figures as placeholders ({{name:FMT}})", src, open_line);
            buf_add(out, "\n</details>\n");
            open_line = 0;
        } else {
            if (open_line) {
                const char *o = memmem(p, len, "{{", 2);
                placeholders += o != NULL;
            }
            buf_addn(out, p, len);
            if (nl) buf_addc(out, '\n');
        }
        line++;
        if (!nl) break;
        p = nl + 1;
    }
    if (open_line && check) error("%s:%d: '::: outcome' is never closed by a line that is exactly ':::'", src, open_line);
}

static void emit_prose(Weave *w, Buf *out, Buf *prose, int want_title, const char *src, int line_no)
{
    if (want_title && !w->title[0]) {
        /* The first heading line becomes the title and leaves the body. */
        size_t i = 0;
        while (i < prose->n) {
            char *ln = prose->p + i;
            char *nl = memchr(ln, '\n', prose->n - i);
            size_t len = nl ? (size_t)(nl - ln) : prose->n - i;
            if (len > 0 && ln[0] == '#') {
                size_t a = 0, b = len;
                while (a < len && ln[a] == '#') a++;
                while (a < len && ln[a] == ' ') a++;
                while (b > a && (ln[b - 1] == ' ' || ln[b - 1] == '#')) b--;
                /* strip a trailing {#id .class} attribute block */
                if (b > a && ln[b - 1] == '}') {
                    size_t o = b;
                    while (o > a && ln[o - 1] != '{') o--;
                    if (o > a) { b = o - 1; while (b > a && ln[b - 1] == ' ') b--; }
                }
                snprintf(w->title, sizeof w->title, "%.*s", (int)(b - a), ln + a);
                size_t cut = nl ? len + 1 : len;
                memmove(ln, ln + cut, prose->n - i - cut);
                prose->n -= cut;
                prose->p[prose->n] = '\0';
                break;
            }
            i += len + 1;
        }
    }
    if (w->check_prose) {
        w->typed_figures += check_prose_figures_typed(prose->p, src, line_no + 1);
        return;
    }
    check_prose_figures(w, prose, src, line_no);
    size_t a, b;
    if (!trim_block(prose->p, prose->n, &a, &b)) return;
    if (w->title_only) return;
    Buf block = {0}, filled = {0};
    int first_line = line_no + 1;
    for (size_t k = 0; k < a; k++) first_line += prose->p[k] == '\n';
    Buf raw = {0};
    buf_addn(&raw, prose->p + a, b - a);
    expand_outcomes(raw.p, &block, 1, src, first_line);
    buf_free(&block);
    fill_placeholders(raw.p, &filled, w->run_dir, w->runs, src, first_line);
    expand_outcomes(filled.p ? filled.p : "", &block, 0, src, first_line);
    buf_free(&raw);
    if (block.n) buf_addn(out, block.p, block.n);
    buf_free(&block);
    buf_free(&filled);
    buf_add(out, "\n\n");
}

/* The book shows a solution region (exercises/README.md gives its syntax)
 * as the student's tree has it: a TODO naming the exercise, then the stub.
 * The solution itself never reaches a page; the chapter's "Exercises"
 * section says what to write. exercises/regions.awk makes the student's
 * files; this is its view for the book, with the same markers. */
typedef struct {
    int state;       /* 0 outside, 1 in the BEGIN comment, 2 in the solution */
    int indent;      /* the BEGIN line's, which the stub takes */
    char id[100];
} Region;

static int solution_line(Region *r, const char *ln, size_t len, Buf *code)
{
    size_t ind = 0;
    while (ind < len && (ln[ind] == ' ' || ln[ind] == '\t')) ind++;
    const char *t = ln + ind;
    size_t tl = len - ind;
    static const char begin[] = "/* BEGIN SOLUTION ", stub[] = "* STUB:", end[] = "/* END SOLUTION ";
    if (r->state == 0) {
        if (tl < sizeof begin - 1 || memcmp(t, begin, sizeof begin - 1) != 0) return 0;
        size_t n = tl - (sizeof begin - 1);
        snprintf(r->id, sizeof r->id, "%.*s", (int)(n < sizeof r->id ? n : sizeof r->id - 1),
                 t + sizeof begin - 1);
        buf_printf(code, "%.*s/* TODO(%s): the exercise at the end of this chapter. */\n", (int)ind, ln, r->id);
        r->state = 1;
        r->indent = (int)ind;
    } else if (r->state == 1) {
        if (tl >= sizeof stub - 1 && memcmp(t, stub, sizeof stub - 1) == 0) {
            const char *c = t + sizeof stub - 1;
            size_t cl = tl - (sizeof stub - 1);
            if (cl && *c == ' ') c++, cl--;
            buf_printf(code, "%*s%.*s\n", cl ? r->indent : 0, "", (int)cl, c);
        } else if (tl == 2 && memcmp(t, "*/", 2) == 0)
            r->state = 2;
    } else if (tl >= sizeof end - 1 && memcmp(t, end, sizeof end - 1) == 0) {
        buf_printf(code, "%.*s/* END TODO(%s) */\n", (int)ind, ln, r->id);
        r->state = 0;
    }
    return 1;
}

/* One source file into `out`. `first` is chapter.c, whose first prose block
 * gives the title. */
static void weave_file(Weave *w, Buf *out, const char *path, const char *shown, int first)
{
    Buf raw = {0}, src = {0};
    if (!read_file(path, &raw)) {
        error("cannot read %s: %s", path, strerror(errno));
        return;
    }
    clean_text(raw.p, raw.n, &src);
    buf_free(&raw);

    buf_printf(out, "::: {.source-file}\nSource: `%s`\n:::\n\n", shown);

    enum { CODE, PROSE } state = CODE;
    Buf code = {0}, prose = {0};
    int in_cell = 0, cell_line = 0, prose_line = 0, seen_prose = 0, line_no = 0;
    char slug[200] = "";
    Region region = {0};
    size_t i = 0;
    while (i < src.n) {
        char *ln = src.p + i;
        char *nl = memchr(ln, '\n', src.n - i);
        size_t len = nl ? (size_t)(nl - ln) : src.n - i;
        i += len + 1;
        line_no++;
        if (state == PROSE) {
            if (line_is(ln, len, "*/")) {
                emit_prose(w, out, &prose, first && !seen_prose, shown, prose_line);
                seen_prose = 1;
                buf_free(&prose);
                state = CODE;
            } else {
                buf_addn(&prose, ln, len);
                buf_addc(&prose, '\n');
            }
            continue;
        }
        if (line_is(ln, len, "/*md")) {
            emit_code(out, "c", NULL, &code);
            buf_free(&code);
            state = PROSE;
            prose_line = line_no;
            buf_add(&prose, "");
            continue;
        }
        if (solution_line(&region, ln, len, &code)) continue;
        buf_addn(&code, ln, len);
        buf_addc(&code, '\n');
        char s[200];
        if (!in_cell && is_cell_def(ln, len, s, sizeof s)) {
            in_cell = 1;
            cell_line = line_no;
            snprintf(slug, sizeof slug, "%s", s);
        } else if (in_cell && line_is(ln, len, "}")) {
            emit_code(out, "c", NULL, &code);
            buf_free(&code);
            emit_cell_output(w, out, slug, shown, cell_line);
            in_cell = 0;
        }
    }
    if (state == PROSE)
        error("%s:%d: prose block '/*md' is never closed by a line that is exactly '*/'", shown, prose_line);
    if (in_cell)
        error("%s:%d: cell '%s' has no closing line that is exactly '}'", shown, cell_line, slug);
    emit_code(out, "c", NULL, &code);
    buf_free(&code);
    buf_free(&prose);
    buf_free(&src);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The other .c files of the chapter, sorted by name. */
static size_t list_sources(const char *dir, char ***names)
{
    DIR *d = opendir(dir);
    *names = NULL;
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t L = strlen(e->d_name);
        if (L < 3 || strcmp(e->d_name + L - 2, ".c") != 0 || strcmp(e->d_name, "chapter.c") == 0) continue;
        if (e->d_name[0] == '.') continue;
        char full[4200];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (!file_exists(full)) {           /* a directory or a FIFO named *.c */
            warning("%s is not a regular file; not woven", full);
            continue;
        }
        char **v = realloc(*names, (n + 1) * sizeof *v);
        if (!v) die_oom();
        *names = v;
        (*names)[n] = strdup(e->d_name);
        if (!(*names)[n]) die_oom();
        n++;
    }
    closedir(d);
    if (n > 1) qsort(*names, n, sizeof **names, cmp_str);
    return n;
}

static void yaml_single_quoted(Buf *out, const char *s)
{
    buf_addc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'') buf_addc(out, '\'');
        buf_addc(out, *s);
    }
    buf_addc(out, '\'');
}

/* One row of a run file as a Markdown table row, escaped. */
static void add_table_row(Buf *rows, char *const f[3])
{
    buf_add(rows, "|");
    for (int k = 0; k < 3; k++) {
        buf_add(rows, " ");
        for (const char *c = f[k]; *c; c++) {
            if (*c == '\r' || *c == '\t') continue;
            if (*c == '|' || *c == '*' || *c == '_' || *c == '`' || *c == '$' || *c == '\\') buf_addc(rows, '\\');
            buf_addc(rows, *c);
        }
        buf_add(rows, " |");
    }
    buf_add(rows, "\n");
}

/* A run file of rows name\tvalue\tunit as a table under `heading`; the
 * experiments' rows (names beginning "exp ") in a second table, hidden. */
static void emit_table(Weave *w, Buf *out, const char *file, const char *heading, const char *intro)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", w->run_dir, file);
    Buf raw = {0}, rows = {0}, exp = {0}, r2 = {0};
    if (!read_file(path, &raw)) return;
    /* Fields are tab separated: strip control codes but keep the tabs. */
    char *save2 = NULL;
    strip_controls(raw.p, raw.n, &r2);
    buf_add(&r2, "");
    for (char *ln = strtok_r(r2.p, "\n", &save2); ln; ln = strtok_r(NULL, "\n", &save2)) {
        if (!*ln || ln[0] == '#') continue;
        char *f[3] = {ln, "", ""};
        char *tab = strchr(ln, '\t');
        if (tab) { *tab = '\0'; f[1] = tab + 1; tab = strchr(f[1], '\t'); }
        if (tab) { *tab = '\0'; f[2] = tab + 1; }
        add_table_row(strncmp(f[0], "exp ", 4) == 0 ? &exp : &rows, f);
    }
    static const char head[] = "| figure | value | unit |\n|:---|---:|:---|\n";
    if (rows.n || exp.n) {
        buf_printf(out, "%s\n\n%s (`%s`).\n\n", heading, intro, path);
        if (rows.n) {
            buf_add(out, head);
            buf_addn(out, rows.p, rows.n);
            buf_add(out, "\n");
        }
        if (exp.n) {
            buf_add(out, "<details class=\"outcome\">\n<summary>The experiments' figures</summary>\n\n");
            buf_add(out, head);
            buf_addn(out, exp.p, exp.n);
            buf_add(out, "\n</details>\n\n");
        }
    }
    buf_free(&raw);
    buf_free(&rows);
    buf_free(&exp);
    buf_free(&r2);
}

/* ------------------------------------------------------------ exercises */

/* The HINT lines of every "BEGIN SOLUTION <id>" region of file (the
 * solution itself is never read: only the comment that opens the region). */
static void exercise_hints(const char *file, const char *id, Buf *out)
{
    Buf src = {0};
    if (!read_file(file, &src)) return;
    char *save = NULL;
    int in_head = 0;
    for (char *ln = strtok_r(src.p, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        const char *b = strstr(ln, "BEGIN SOLUTION ");
        if (b) {
            b += strlen("BEGIN SOLUTION ");
            size_t L = strcspn(b, " \t*");
            in_head = L == strlen(id) && strncmp(b, id, L) == 0;
            continue;
        }
        if (!in_head) continue;
        if (strstr(ln, "*/")) { in_head = 0; continue; }
        const char *h = strstr(ln, "HINT:");
        if (h) {
            h += 5;
            while (*h == ' ') h++;
            if (out->n) buf_addc(out, ' ');
            buf_add(out, h);
        }
    }
    buf_free(&src);
}

/* Markdown-escape the characters a title or hint may hold. */
static void add_escaped(Buf *out, const char *s)
{
    for (; *s; s++) {
        if (strchr("*_`$\\[]<>|#", *s)) buf_addc(out, '\\');
        buf_addc(out, *s);
    }
}

/* The chapter's exercises (exercises/exercises.tsv at the repository root,
 * rows of id, chapter, file, test filter, title): what each asks, where,
 * its hint and the tests that grade it; never its solution. */
static void emit_exercises(Weave *w, Buf *out, const char *root)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/exercises/exercises.tsv", root);
    Buf tsv = {0}, items = {0};
    if (!read_file(path, &tsv)) return;
    char *save = NULL;
    for (char *ln = strtok_r(tsv.p, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        if (ln[0] == '#') continue;
        char *f[5] = {0};
        int k = 0;
        for (char *p = ln; k < 5 && p; k++) {
            f[k] = p;
            p = strchr(p, '\t');
            if (p) *p++ = '\0';
        }
        if (k < 5 || !f[4] || strcmp(f[1], w->nn) != 0) continue;
        char file[8400];
        snprintf(file, sizeof file, "%s/%s", root, f[2]);
        Buf hint = {0};
        exercise_hints(file, f[0], &hint);
        buf_printf(&items, "- **`%s`**: ", f[0]);
        add_escaped(&items, f[4]);
        buf_printf(&items, ". In `%s`.", f[2]);
        if (hint.n) {
            buf_add(&items, " *Hint:* ");
            add_escaped(&items, hint.p);
        }
        buf_printf(&items, " Graded by the tests `%s`.\n", f[3]);
        buf_free(&hint);
    }
    if (items.n) {
        buf_add(out, "## Exercises {#exercises .unnumbered}\n\n");
        buf_printf(out, "Write these in the student tree (`make student`, then read its README), where each "
                        "is a `TODO` in the file named; `make grade-%s` grades them.\n\n", w->nn);
        buf_addn(out, items.p, items.n);
        buf_add(out, "\n");
    }
    buf_free(&tsv);
    buf_free(&items);
}

/* The whole chapter. Returns the number of errors; `out` holds the Markdown. */
static int weave_chapter(Weave *w, Buf *out)
{
    int before = n_errors;
    const char *base = strrchr(w->chapter_dir, '/');
    base = base ? base + 1 : w->chapter_dir;
    if (!dir_exists(w->chapter_dir)) {
        error("chapter directory %s does not exist", w->chapter_dir);
        return n_errors - before;
    }
    snprintf(w->nn, sizeof w->nn, "%.2s", base);
    char path[4096];
    snprintf(path, sizeof path, "%s/chapter.c", w->chapter_dir);
    if (!file_exists(path)) {
        error("%s has no chapter.c (the chapter's notebook)", w->chapter_dir);
        return n_errors - before;
    }
    if (w->run_dir && !dir_exists(w->run_dir)) {
        error("chapter %s has no run output: %s is missing. Run it first ('make run-%s', or 'make course').",
              base, w->run_dir, w->nn);
        return n_errors - before;
    }
    if (w->run_dir && !w->runs[0]) {
        /* the other chapters' runs sit beside this one */
        snprintf(w->runs, sizeof w->runs, "%s", w->run_dir);
        char *slash = strrchr(w->runs, '/');
        if (slash) *slash = '\0';
        else snprintf(w->runs, sizeof w->runs, ".");
    }
    if (w->run_dir) {
        char cl[4096];
        snprintf(cl, sizeof cl, "%s/cells.list", w->run_dir);
        if (!read_file(cl, &w->cells_list))
            warning("%s is missing; cell numbers and titles are left out", cl);
    }

    Buf body = {0};
    weave_file(w, &body, path, path, 1);
    char **names;
    size_t n = list_sources(w->chapter_dir, &names);
    for (size_t k = 0; k < n; k++) {
        char p2[4096];
        snprintf(p2, sizeof p2, "%s/%s", w->chapter_dir, names[k]);
        weave_file(w, &body, p2, p2, 0);
        free(names[k]);
    }
    free(names);
    if (!w->title[0])
        error("%s: the first prose block has no Markdown heading; the chapter title comes from it", path);

    if (!w->title_only) {
        /* the repository root: two levels above chapters/NN-name */
        char root[4200];
        snprintf(root, sizeof root, "%s", w->chapter_dir);
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(root, '/');
            if (slash) *slash = '\0';
            else snprintf(root, sizeof root, ".");
        }
        if (strcmp(root, w->chapter_dir) == 0) snprintf(root, sizeof root, ".");
        emit_exercises(w, &body, root);
    }
    if (w->run_dir) {
        emit_table(w, &body, "metrics.tsv", "## Figures of this run {#headline-figures .unnumbered}",
                   "What the run recorded; the same for every run with this seed, on any machine");
        emit_table(w, &body, "timing.tsv",
                   "## Timings on the machine that built this book {#machine-timings .unnumbered}",
                   "Times, speeds and memory depend on the machine and its load; a figure marked † "
                   "in the text comes from here");
    }

    /* Cells the run recorded that no source defines: say so. */
    if (w->cells_list.p) {
        char *copy = strdup(w->cells_list.p), *save = NULL;
        if (!copy) die_oom();
        for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
            char *s = strchr(ln, '\t');
            if (!s) continue;
            s++;
            char *e = strchr(s, '\t');
            if (e) *e = '\0';
            int found = 0;
            for (size_t k = 0; k < w->n_woven && !found; k++) {
                const char *a = w->woven[k];
                found = strlen(a) == strlen(s);
                for (size_t j = 0; found && a[j]; j++)
                    found = (a[j] == '-' ? '_' : a[j]) == (s[j] == '-' ? '_' : s[j]);
            }
            if (!found) warning("cell '%s' is in %s/cells.list but no source defines static void cell_%s(void)", s, w->run_dir, s);
        }
        free(copy);
    }

    buf_add(out, "---\ntitle: ");
    yaml_single_quoted(out, w->title);
    buf_printf(out, "\nchapter: '%s'\n", w->nn);
    /* "Chapter N" above the title, unless the title says it already */
    if (strncasecmp(w->title, "chapter", 7) != 0 && w->nn[0] >= '0' && w->nn[0] <= '9')
        buf_printf(out, "chapter-label: 'Chapter %d'\n", atoi(w->nn));
    buf_add(out, "---\n\n");
    buf_addn(out, body.p ? body.p : "", body.n);
    buf_free(&body);
    return n_errors - before;
}

static void weave_free(Weave *w)
{
    buf_free(&w->cells_list);
    for (size_t k = 0; k < w->n_woven; k++) free(w->woven[k]);
    free(w->woven);
    w->woven = NULL;
    w->n_woven = 0;
}

/* ------------------------------------------------------------------- main */

#ifndef WEAVE_NO_MAIN
/* Write buf to path through a temporary file, or to stdout if path is NULL. */
static int write_output(const char *out_path, const Buf *out)
{
    if (!out_path) {
        if (out->n) fwrite(out->p, 1, out->n, stdout);
        return 0;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    FILE *f = fopen(tmp, "wb");
    if (!f || (out->n && fwrite(out->p, 1, out->n, f) != out->n) || fclose(f) != 0) {
        fprintf(stderr, "weave: cannot write %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    if (rename(tmp, out_path) != 0) {
        fprintf(stderr, "weave: cannot rename %s to %s: %s\n", tmp, out_path, strerror(errno));
        return 1;
    }
    return 0;
}

/* A hand-written page (index, appendix): its placeholders filled from the
 * chapters' runs under `runs`. Nothing is written on error. */
static int fill_page(const char *page, const char *runs, const char *out_path)
{
    Buf raw = {0}, out = {0};
    if (!read_file(page, &raw)) {
        fprintf(stderr, "weave: cannot read %s: %s\n", page, strerror(errno));
        return 1;
    }
    int before = n_errors;
    fill_placeholders(raw.p, &out, NULL, runs, page, 1);
    buf_free(&raw);
    int errs = n_errors - before, rc = 1;
    if (errs) fprintf(stderr, "weave: %d error%s in %s; nothing written\n", errs, errs == 1 ? "" : "s", page);
    else rc = write_output(out_path, &out);
    buf_free(&out);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: weave [--run DIR] [--fig DIR] [--figurl URL] [-o OUT.md] CHAPTER_DIR\n"
            "       weave --title CHAPTER_DIR\n"
            "Weaves chapters/NN-slug/*.c, the run's cell outputs and figures into Markdown.\n"
            "  --run DIR     the chapter's run directory (default build/run/<basename of CHAPTER_DIR>)\n"
            "  --fig DIR     where the rendered figures are (default build/fig)\n"
            "  --figurl URL  figure URL prefix in the page (default fig)\n"
            "  -o OUT.md     write here (default standard output); nothing is written on error\n"
            "  --title       print the chapter title (first heading of chapter.c) and exit\n"
            "  --check-prose list every decimal figure typed in the prose (exit 1 if any)\n"
            "  --page P.md   fill the placeholders of a hand-written page (with --runs DIR,\n"
            "                default build/run) and write it to -o (or standard output)\n");
}

int main(int argc, char **argv)
{
    Weave w = {0};
    const char *out_path = NULL;
    int title_only = 0;
    const char *page = NULL, *runs = NULL;
    w.fig_dir = "build/fig";
    w.fig_url = "fig";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--run") && has_val) w.run_dir = argv[++i];
        else if (!strcmp(a, "--fig") && has_val) w.fig_dir = argv[++i];
        else if (!strcmp(a, "--figurl") && has_val) w.fig_url = argv[++i];
        else if (!strcmp(a, "-o") && has_val) out_path = argv[++i];
        else if (!strcmp(a, "--title")) title_only = 1;
        else if (!strcmp(a, "--check-prose")) w.check_prose = 1;
        else if (!strcmp(a, "--page") && has_val) page = argv[++i];
        else if (!strcmp(a, "--runs") && has_val) runs = argv[++i];
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (a[0] == '-' || w.chapter_dir) {
            fprintf(stderr, "weave: bad argument '%s'\n", a);
            usage(stderr);
            return 64;
        } else w.chapter_dir = a;
    }
    if (page) return fill_page(page, runs ? runs : "build/run", out_path);
    if (!w.chapter_dir) {
        fprintf(stderr, "weave: which chapter? give its directory, e.g. chapters/01-autodiff\n");
        usage(stderr);
        return 64;
    }
    /* strip trailing slashes so the basename is the slug */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", w.chapter_dir);
    for (size_t L = strlen(dir); L > 1 && dir[L - 1] == '/'; L--) dir[L - 1] = '\0';
    w.chapter_dir = dir;

    char run_default[4200];
    if (title_only) {
        w.run_dir = NULL;
        w.title_only = 1;
    } else if (!w.run_dir) {
        const char *base = strrchr(dir, '/');
        snprintf(run_default, sizeof run_default, "build/run/%s", base ? base + 1 : dir);
        w.run_dir = run_default;
    }

    Buf out = {0};
    if (w.check_prose) {
        w.run_dir = NULL;
        w.title_only = 1;
        weave_chapter(&w, &out);
        weave_free(&w);
        buf_free(&out);
        if (w.typed_figures)
            fprintf(stderr, "weave: %d figure%s typed in the prose of %s\n", w.typed_figures,
                    w.typed_figures == 1 ? "" : "s", dir);
        return w.typed_figures ? 1 : 0;
    }
    if (title_only) {
        /* only the title matters: errors about figures do not */
        weave_chapter(&w, &out);
        weave_free(&w);
        buf_free(&out);
        if (!w.title[0]) return 1;
        printf("%s\n", w.title);
        return 0;
    }
    int errs = weave_chapter(&w, &out);
    weave_free(&w);
    if (errs) {
        fprintf(stderr, "weave: %d error%s in %s; no Markdown written\n", errs, errs == 1 ? "" : "s", dir);
        buf_free(&out);
        return 1;
    }
    int rc = write_output(out_path, &out);
    buf_free(&out);
    return rc;
}
#endif
