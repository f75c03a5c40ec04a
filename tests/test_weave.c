/* tests/test_weave.c: the book's weaver (book/weave.c) does what
 * notes/conventions.md says: prose, code, each cell's recorded output and
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

/* Runs the weave with stderr captured into buf. */
static int weave_fake_capture(const char *root, Buf *out, Weave *w, char *buf, size_t cap)
{
    char path[600];
    snprintf(path, sizeof path, "%s/stderr.txt", root);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    cr_assert(f && saved >= 0);
    dup2(fileno(f), 2);
    int errs = weave_fake(root, out, w);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
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
