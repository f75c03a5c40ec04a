/* tests/test_weave.c: the book's weaver (book/weave.c) does what
 * DESIGN.md's "Literate source" says: prose, code, each cell's recorded output and
 * figures right after the cell's closing brace; the title from chapter.c's
 * first heading; clean text from a run; a clear error when an output or a
 * figure is missing.
 *
 * Self-contained: it includes the weaver's source (without its main), so it
 * links with Criterion only. Build and run: make check-weave.
 * No tolerances here: every check is an exact string property.
 */
#define WEAVE_NO_MAIN
#include "../book/weave.c"

#include <criterion/criterion.h>
#include <unistd.h>

/* ------------------------------------------------------------- helpers */

static char *clean(const char *s)
{
    Buf out = {0};
    clean_text(s, strlen(s), &out);
    return out.p;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A fake chapter 07-demo in a fresh temporary directory:
 * root/chapters/07-demo/{chapter.c, model.c}, root/run/07-demo/cells/,
 * root/fig/. Returns root. */
static char *make_fake(int with_output, int with_figure)
{
    static char root[256];
    snprintf(root, sizeof root, "/tmp/test_weave.XXXXXX");
    cr_assert(mkdtemp(root), "mkdtemp failed");
    char d[512];
    const char *dirs[] = {"chapters", "chapters/07-demo", "run", "run/07-demo", "run/07-demo/cells", "fig"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(d, sizeof d, "%s/%s", root, dirs[i]);
        cr_assert(mkdir(d, 0755) == 0, "mkdir %s", d);
    }
    snprintf(d, sizeof d, "%s/chapters/07-demo", root);
    write_file(d, "chapter.c",
               "#include <stdio.h>\n"
               "/*md\n"
               "# Demo: the weaver's test chapter\n"
               "\n"
               "Some prose with $x^2$.\n"
               "*/\n"
               "\n\n"
               "static void cell_first(void)\n"
               "{\n"
               "    printf(\"hello\\n\");\n"
               "}\n"
               "static void cell_unused(void);\n"
               "/*md\n"
               "After the cell.\n"
               "*/\n");
    write_file(d, "model.c", "/*md\n## The model\n*/\nint model(void) { return 1; }\n");
    write_file(d, "model.h", "/*md\nnot woven\n*/\n");
    snprintf(d, sizeof d, "%s/run/07-demo/cells", root);
    if (with_output) write_file(d, "first.txt", "hello\n");
    write_file(d, "first.figs", "07-plot\tA plot of $y$\n");
    snprintf(d, sizeof d, "%s/run/07-demo", root);
    write_file(d, "cells.list", "1\tfirst\tThe first cell\n");
    write_file(d, "metrics.tsv", "loss\t0.5\tnats\n");
    snprintf(d, sizeof d, "%s/fig", root);
    if (with_figure) write_file(d, "07-plot.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    return root;
}

static int weave_fake(const char *root, Buf *out, Weave *w)
{
    static char cdir[512], rdir[512], fdir[512];
    snprintf(cdir, sizeof cdir, "%s/chapters/07-demo", root);
    snprintf(rdir, sizeof rdir, "%s/run/07-demo", root);
    snprintf(fdir, sizeof fdir, "%s/fig", root);
    memset(w, 0, sizeof *w);
    w->chapter_dir = cdir;
    w->run_dir = rdir;
    w->fig_dir = fdir;
    w->fig_url = "fig";
    return weave_chapter(w, out);
}

/* stderr redirected into a temporary file between begin and end; end
 * restores it and copies what was written into buf (cap bytes). */
typedef struct {
    FILE *f;
    int saved;
} StderrCapture;

static StderrCapture stderr_capture_begin(void)
{
    fflush(stderr);
    StderrCapture c = {tmpfile(), dup(2)};
    cr_assert(c.f && c.saved >= 0, "cannot capture stderr");
    dup2(fileno(c.f), 2);
    return c;
}

static void stderr_capture_end(StderrCapture *c, char *buf, size_t cap)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    rewind(c->f);
    size_t n = fread(buf, 1, cap - 1, c->f);
    buf[n] = '\0';
    fclose(c->f);
}

/* Runs the weave with stderr captured into buf. */
static int weave_fake_capture(const char *root, Buf *out, Weave *w, char *buf, size_t cap)
{
    StderrCapture c = stderr_capture_begin();
    int errs = weave_fake(root, out, w);
    stderr_capture_end(&c, buf, cap);
    return errs;
}

static void remove_tree(const char *root)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert(system(cmd) == 0);
}

/* ------------------------------------------------------------- cleaning */

Test(weave_clean, escape_sequences_are_removed)
{
    char *s = clean("\x1b[1;31mred\x1b[0m \x1b]0;title\x07ok\x1b" "c\n");
    cr_assert_str_eq(s, "red ok\n", "got '%s'", s);
    free(s);
}

Test(weave_clean, output_that_starts_with_a_blank_line_is_kept)
{
    /* chapter 5's first cell once printed "\n..." and the weaver crashed */
    char *s = clean("\n  a\n");
    cr_assert_str_eq(s, "\n  a\n", "got '%s'", s);
    free(s);
}

Test(weave_clean, carriage_return_keeps_what_a_terminal_shows_last)
{
    char *s = clean("step 1/3\rstep 2/3\r\x1b[2Kstep 3/3 done\r\nnext\n");
    cr_assert_str_eq(s, "step 3/3 done\nnext\n", "got '%s'", s);
    free(s);
}

Test(weave_clean, no_control_code_survives)
{
    char in[256], *s;
    for (int i = 0; i < 128; i++) in[i] = (char)(i + 1);   /* 0x01..0x80 */
    in[128] = '\0';
    s = clean(in);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cr_assert(*p == '\n' || (*p >= 0x20 && *p != 0x7F), "control byte 0x%02x left in the output", *p);
    free(s);
}

Test(weave_clean, invalid_utf8_becomes_replacement_and_valid_is_kept)
{
    char *s = clean("a\xff" "b \xc3\xa9 \xe4\xb8\xad \xc0\xaf\n");  /* bad, é, 中, overlong '/' */
    cr_assert_str_eq(s, "a\xEF\xBF\xBD" "b \xc3\xa9 \xe4\xb8\xad \xEF\xBF\xBD\xEF\xBF\xBD\n", "got '%s'", s);
    free(s);
}

Test(weave_clean, tabs_expand_to_stops_of_eight)
{
    char *s = clean("a\tb\n12345678\tc\n\xc3\xa9\td\n");
    cr_assert_str_eq(s, "a       b\n12345678        c\n\xc3\xa9       d\n", "got '%s'", s);
    free(s);
}

/* ------------------------------------------------------------- pieces */

Test(weave_pieces, fence_is_longer_than_any_backtick_run)
{
    cr_assert_eq(fence_len("no ticks", 8), 3);
    cr_assert_eq(fence_len("``` x", 5), 4);
    cr_assert_eq(fence_len("a `````` b", 10), 7);
}

Test(weave_pieces, cell_definitions_are_recognised_and_declarations_are_not)
{
    char slug[64];
    const char *yes[] = {"static void cell_train(void)", "static void cell_train_g(void) {",
                         "static void cell_x1(void)  /* comment */"};
    const char *no[] = {"static void cell_train(void);", "    static void cell_train(void)",
                        "static int cell_train(void)", "static void cell_(void)"};
    for (size_t i = 0; i < 3; i++)
        cr_assert(is_cell_def(yes[i], strlen(yes[i]), slug, sizeof slug), "not recognised: %s", yes[i]);
    for (size_t i = 0; i < 4; i++)
        cr_assert(!is_cell_def(no[i], strlen(no[i]), slug, sizeof slug), "wrongly recognised: %s", no[i]);
    is_cell_def(yes[1], strlen(yes[1]), slug, sizeof slug);
    cr_assert_str_eq(slug, "train_g");
}

/* ------------------------------------------------------------- the weave */

Test(weave_chapter, output_follows_the_cell_and_everything_is_in_reading_order)
{
    char *root = make_fake(1, 1);
    Buf out = {0};
    Weave w;
    int errs = weave_fake(root, &out, &w);
    cr_assert_eq(errs, 0, "%d errors", errs);
    cr_assert_str_eq(w.title, "Demo: the weaver's test chapter");
    const char *s = out.p;
    const char *order[] = {
        "title: 'Demo: the weaver''s test chapter'",  /* YAML title, quote doubled */
        "``` c\n#include <stdio.h>\n```",             /* code before the first prose */
        "Some prose with $x^2$.",                       /* prose, heading removed */
        "static void cell_first(void)\n{\n    printf(\"hello\\n\");\n}\n```",
        "{#cell-first .cell-output",                    /* right after the closing brace */
        "Output of cell 1, *first*: The first cell",
        "hello",
        "![A plot of $y$](fig/07-plot.svg){#fig-07-plot}",
        "static void cell_unused(void);",
        "After the cell.",
        "## The model",                                 /* model.c after chapter.c */
        "int model(void)",
        "| loss | 0.5 | nats |",                        /* metrics.tsv */
    };
    const char *at = s;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const char *hit = strstr(at, order[i]);
        cr_assert(hit, "'%s' missing or out of order in:\n%s", order[i], s);
        at = hit + strlen(order[i]);
    }
    cr_assert(!strstr(s, "# Demo:"), "the title heading stays in the body");
    cr_assert(!strstr(s, "not woven"), "a .h file was woven");
    cr_assert(!strstr(s, "``` c\n\n"), "a blank-only code block was emitted");
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

Test(weave_chapter, missing_cell_output_is_an_error_naming_the_file)
{
    char *root = make_fake(0, 1);
    Buf out = {0};
    Weave w;
    char buf[4096] = "", expect[600];
    int errs = weave_fake_capture(root, &out, &w, buf, sizeof buf);
    cr_assert_eq(errs, 1, "expected 1 error, got %d:\n%s", errs, buf);
    snprintf(expect, sizeof expect, "cell 'first' has no recorded output: %s/run/07-demo/cells/first.txt is missing", root);
    cr_assert(strstr(buf, expect), "stderr does not name the missing file:\n%s", buf);
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

Test(weave_chapter, missing_figure_is_an_error_naming_the_figure)
{
    char *root = make_fake(1, 0);
    Buf out = {0};
    Weave w;
    char buf[4096] = "";
    int errs = weave_fake_capture(root, &out, &w, buf, sizeof buf);
    cr_assert_eq(errs, 1, "expected 1 error, got %d:\n%s", errs, buf);
    cr_assert(strstr(buf, "figure '07-plot' was not drawn"), "stderr does not name the figure:\n%s", buf);
    cr_assert(strstr(buf, "/fig/07-plot.svg is missing"), "stderr does not name the file:\n%s", buf);
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

/* ------------------------------------------------- figures from the run */

/* Fill `text` against the fake chapter's record (run/07-demo): metrics.tsv
 * holds loss 0.5; we add a count, a text and a timing. stderr captured. */
static int fill_fake(const char *root, const char *text, Buf *out, char *err, size_t cap)
{
    char rdir[512], runs[512];
    snprintf(rdir, sizeof rdir, "%s/run/07-demo", root);
    snprintf(runs, sizeof runs, "%s/run", root);
    write_file(rdir, "metrics.tsv",
               "loss\t0.49999999999999994\tnats\nsteps\t12345\tsteps\nworst seed\tseed 3\ttext\n"
               "1-D: gap\t0.125\tnats\n");
    write_file(rdir, "timing.tsv", "ms per step\t1.875\tms\n");
    StderrCapture c = stderr_capture_begin();
    int before = n_errors;
    fill_placeholders(text, out, rdir, runs, "test.c", 1);
    stderr_capture_end(&c, err, cap);
    return n_errors - before;
}

Test(weave_figures, placeholders_are_filled_from_the_record_with_their_format)
{
    char *root = make_fake(1, 1), err[4096];
    Buf out = {0};
    int errs = fill_fake(root,
                         "loss {{loss:.3f}}, {{steps:'.0f}} steps ({{steps:.2e}}), {{worst seed}}; "
                         "gap {{1-D: gap:.2f}}; {{07/loss:.1f}}; {{ms per step:.1f}} ms",
                         &out, err, sizeof err);
    cr_assert_eq(errs, 0, "unexpected errors:\n%s", err);
    const char *want = "loss 0.500, 12,345 steps (1.23e+04), seed 3; gap 0.12; 0.5; "
                       "1.9^[†](#machine-timings)^ ms";
    cr_assert_str_eq(out.p, want, "filled:\n%s\nwanted:\n%s", out.p, want);
    buf_free(&out);
    remove_tree(root);
}

Test(weave_figures, a_missing_value_is_an_error_that_names_it)
{
    char *root = make_fake(1, 1), err[4096];
    Buf out = {0};
    int errs = fill_fake(root, "line one\nthe {{best loss:.2f}} and {{09/x}}", &out, err, sizeof err);
    cr_assert_eq(errs, 2, "expected 2 errors, got %d:\n%s", errs, err);
    cr_assert(strstr(err, "test.c:2: {{best loss:.2f}}: the run recorded no value named 'best loss'"),
              "stderr does not name the missing value and its line:\n%s", err);
    cr_assert(strstr(err, "needs chapter 09's run"), "stderr does not name the missing chapter run:\n%s", err);
    buf_free(&out);
    remove_tree(root);
}

Test(weave_figures, a_grouped_format_groups_every_three_digits)
{
    Buf a = {0}, b = {0}, c = {0};
    format_value(1234567.25, "'.1f", &a);
    format_value(-999, "'.0f", &b);
    format_value(1000, "'d", &c);
    cr_assert_str_eq(a.p, "1,234,567.2");
    cr_assert_str_eq(b.p, "-999");
    cr_assert_str_eq(c.p, "1,000");
    buf_free(&a);
    buf_free(&b);
    buf_free(&c);
}

/* stderr of check_prose_figures_typed on text, and its count. */
static int typed(const char *text, char *err, size_t cap)
{
    StderrCapture c = stderr_capture_begin();
    int n = check_prose_figures_typed(text, "c.c", 1);
    stderr_capture_end(&c, err, cap);
    return n;
}

Test(weave_figures, typed_decimal_figures_in_prose_are_found_and_marked_constants_are_not)
{
    char err[8192];
    int n = typed("High quality 93.0 % after 1e-3 steps;\nloss 2.25 nats, 40% more.", err, sizeof err);
    cr_assert_eq(n, 4, "expected 4 typed figures, found %d:\n%s", n, err);
    cr_assert(strstr(err, "c.c:1: '93.0 %'") && strstr(err, "c.c:1: '1e-3'") && strstr(err, "c.c:2: '2.25'") &&
                  strstr(err, "c.c:2: '40%'"),
              "not every figure is named with its line:\n%s", err);
    n = typed("Constants: $\\sigma = 0.02$, $$x = 1.5$$, `lr = 1e-3`, {{loss:.3f}}, GPT-2, float32, "
              "\\S and §3.1, [paper](https://arxiv.org/abs/1406.2661), 784 pixels, 10,000 steps, 2014.",
              err, sizeof err);
    cr_assert_eq(n, 0, "constants were flagged:\n%s", err);
}

/* The specification itself: every chapter's prose holds no typed figure. */
Test(weave_figures, no_chapter_prose_types_a_run_figure_by_hand)
{
    DIR *d = opendir("chapters");
    cr_assert(d, "run the tests from the repository root (chapters/ not found)");
    struct dirent *e;
    int total = 0;
    while ((e = readdir(d)) != NULL) {
        if (!(e->d_name[0] >= '0' && e->d_name[0] <= '9')) continue;
        char dir[600];
        snprintf(dir, sizeof dir, "chapters/%s", e->d_name);
        Weave w = {0};
        Buf out = {0};
        w.chapter_dir = dir;
        w.check_prose = w.title_only = 1;
        weave_chapter(&w, &out);
        total += w.typed_figures;
        weave_free(&w);
        buf_free(&out);
    }
    closedir(d);
    cr_assert_eq(total, 0, "%d figures typed in chapter prose (listed above on stderr): make each a "
                           "placeholder or mark it as a constant", total);
}

/* ------------------------------------------------------------ exercises */

Test(weave_exercises, a_chapter_ends_with_its_exercises_hints_and_tests_but_never_the_solution)
{
    char *root = make_fake(1, 1), d[600];
    snprintf(d, sizeof d, "%s/exercises", root);
    cr_assert(mkdir(d, 0755) == 0);
    write_file(d, "exercises.tsv",
               "# id chapter file tests title\n"
               "ex07-twice\t07\tlib/twice.c\tdemo/twice_*\tdouble a number\n"
               "ex03-other\t03\tlib/twice.c\tdemo/other\tanother chapter's\n");
    snprintf(d, sizeof d, "%s/lib", root);
    cr_assert(mkdir(d, 0755) == 0);
    write_file(d, "twice.c",
               "int twice(int x) {\n"
               "    /* BEGIN SOLUTION ex07-twice\n"
               "     * HINT: add x to itself.\n"
               "     * STUB: return 0;\n"
               "     */\n"
               "    return x + x; /* the secret line */\n"
               "    /* END SOLUTION ex07-twice */\n"
               "}\n");
    Buf out = {0};
    Weave w;
    char err[4096] = "";
    int errs = weave_fake_capture(root, &out, &w, err, sizeof err);
    cr_assert_eq(errs, 0, "unexpected errors:\n%s", err);
    cr_assert(strstr(out.p, "## Exercises"), "no exercise section:\n%s", out.p);
    cr_assert(strstr(out.p, "**`ex07-twice`**: double a number. In `lib/twice.c`. *Hint:* add x to itself. "
                            "Graded by the tests `demo/twice_*`."),
              "the exercise is not listed with its hint and tests:\n%s", out.p);
    cr_assert(!strstr(out.p, "secret") && !strstr(out.p, "x + x"), "the solution leaked:\n%s", out.p);
    cr_assert(!strstr(out.p, "ex03-other"), "another chapter's exercise is listed:\n%s", out.p);
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

/* A model file of the chapter is woven into its page: a solution region in
 * it shows as the student's tree has it (a TODO and the stub), never the
 * solution. */
Test(weave_exercises, a_solution_region_in_a_woven_file_shows_its_stub_not_its_solution)
{
    char *root = make_fake(1, 1), d[600];
    snprintf(d, sizeof d, "%s/chapters/07-demo", root);
    write_file(d, "model.c",
               "/*md\n## The model\n*/\n"
               "int twice(int x) {\n"
               "    /* BEGIN SOLUTION ex07-twice\n"
               "     * HINT: add x to itself.\n"
               "     * STUB: (void)x;\n"
               "     * STUB: return 0;\n"
               "     */\n"
               "    return x + x; /* the secret line */\n"
               "    /* END SOLUTION ex07-twice */\n"
               "}\n"
               "int after(void) { return 1; }\n");
    Buf out = {0};
    Weave w;
    char err[4096] = "";
    int errs = weave_fake_capture(root, &out, &w, err, sizeof err);
    cr_assert_eq(errs, 0, "unexpected errors:\n%s", err);
    cr_assert(strstr(out.p, "    /* TODO(ex07-twice): the exercise at the end of this chapter. */\n"
                            "    (void)x;\n    return 0;\n    /* END TODO(ex07-twice) */\n}\n"
                            "int after(void)"),
              "the region is not shown as its stub:\n%s", out.p);
    cr_assert(!strstr(out.p, "secret") && !strstr(out.p, "x + x") && !strstr(out.p, "SOLUTION"),
              "the solution leaked:\n%s", out.p);
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

/* ----------------------------------------------------------- experiments */

/* The fake chapter with an experiment: its prose (outcome lines given),
 * a cell exp_lr that printed its outcome, and a recorded "exp " value. */
static char *make_fake_experiment(const char *outcome)
{
    char *root = make_fake(1, 1), d[600];
    snprintf(d, sizeof d, "%s/chapters/07-demo", root);
    char src[4096];
    snprintf(src, sizeof src,
             "/*md\n"
             "# Demo: the weaver's test chapter\n"
             "*/\n"
             "/*md\n"
             "### Experiment: a larger step\n"
             "\n"
             "Predict, then run `build/bin/07 --set lr=0.1`.\n"
             "%s"
             "After the experiment.\n"
             "*/\n"
             "static void cell_exp_lr(void)\n"
             "{\n"
             "}\n",
             outcome);
    write_file(d, "chapter.c", src);
    snprintf(d, sizeof d, "%s/run/07-demo/cells", root);
    write_file(d, "exp_lr.txt", "lr 0.1: the loss diverged\n");
    snprintf(d, sizeof d, "%s/run/07-demo", root);
    write_file(d, "cells.list", "1\texp_lr\tExperiment: a larger step\n");
    write_file(d, "metrics.tsv", "loss\t0.5\tnats\nexp lr final loss\t7.25\tnats\n");
    return root;
}

Test(weave_experiments, an_outcome_is_hidden_in_details_and_filled_from_the_run)
{
    char *root = make_fake_experiment("::: outcome\nThe loss ends at {{exp lr final loss:.2f}} nats.\n:::\n");
    Buf out = {0};
    Weave w;
    char err[4096] = "";
    int errs = weave_fake_capture(root, &out, &w, err, sizeof err);
    cr_assert_eq(errs, 0, "unexpected errors:\n%s", err);
    const char *want = "Predict, then run `build/bin/07 --set lr=0.1`.\n\n"
                       "<details class=\"outcome\">\n<summary>The outcome in this course's run</summary>\n\n"
                       "The loss ends at 7.25 nats.\n\n</details>\nAfter the experiment.";
    cr_assert(strstr(out.p, want), "the outcome is not a filled <details>:\n%s\nwanted:\n%s", out.p, want);
    /* the experiment cell's output and its recorded figure are hidden too */
    const char *cell = strstr(out.p, "<summary>What this cell printed in this course's run</summary>");
    cr_assert(cell && strstr(cell, "the loss diverged") && strstr(cell, "</details>"),
              "the experiment cell's output is not in a <details>:\n%s", out.p);
    cr_assert(strstr(cell, "</details>") > strstr(cell, "the loss diverged"));
    const char *table = strstr(out.p, "<summary>The experiments' figures</summary>");
    cr_assert(table && strstr(table, "| exp lr final loss | 7.25 | nats |"),
              "the experiment's figure is not in the hidden table:\n%s", out.p);
    cr_assert(strstr(out.p, "| loss | 0.5 | nats |") < table, "the chapter's own figure is not in the open table");
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

Test(weave_experiments, a_custom_summary_is_kept)
{
    char *root = make_fake_experiment("::: outcome What the run found\n{{exp lr final loss:.1f}}\n:::\n");
    Buf out = {0};
    Weave w;
    char err[4096] = "";
    cr_assert_eq(weave_fake_capture(root, &out, &w, err, sizeof err), 0, "unexpected errors:\n%s", err);
    cr_assert(strstr(out.p, "<summary>What the run found</summary>\n\n7.2\n\n</details>"), "got:\n%s", out.p);
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

Test(weave_experiments, an_unknown_placeholder_in_an_outcome_is_an_error_that_names_it)
{
    char *root = make_fake_experiment("::: outcome\nThe loss ends at {{exp lr best loss:.2f}}.\n:::\n");
    Buf out = {0};
    Weave w;
    char err[4096] = "";
    int errs = weave_fake_capture(root, &out, &w, err, sizeof err);
    cr_assert_eq(errs, 1, "expected 1 error, got %d:\n%s", errs, err);
    cr_assert(strstr(err, ":9: {{exp lr best loss:.2f}}: the run recorded no value named 'exp lr best loss'"),
              "stderr does not name the missing value and its line:\n%s", err);
    weave_free(&w);
    buf_free(&out);
    remove_tree(root);
}

Test(weave_experiments, an_outcome_without_a_run_figure_or_never_closed_is_an_error)
{
    const char *bad[][2] = {
        {"::: outcome\nThe loss diverges.\n:::\n", ":8: the outcome opened here names no recorded value"},
        {"::: outcome\n{{exp lr final loss}}\n", ":8: '::: outcome' is never closed"},
        {"::: outcome\n{{exp lr final loss}}\n::: outcome\n{{exp lr final loss}}\n:::\n",
         ":10: '::: outcome' inside the outcome opened on line 8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *root = make_fake_experiment(bad[i][0]);
        Buf out = {0};
        Weave w;
        char err[4096] = "";
        int errs = weave_fake_capture(root, &out, &w, err, sizeof err);
        cr_assert_geq(errs, 1, "case %zu: no error for:\n%s", i, bad[i][0]);
        cr_assert(strstr(err, bad[i][1]), "case %zu: stderr does not say '%s':\n%s", i, bad[i][1], err);
        weave_free(&w);
        buf_free(&out);
        remove_tree(root);
    }
}
