/* fuzz_weave.c - libFuzzer harness for the book's weaver (book/weave.c,
 * included whole, without its main, as tests/test_weave.c does).
 *
 * The input is split at each "\n--8<--\n" into the files of a fake chapter
 * and its run, in this order:
 *   chapters/99-fuzz/chapter.c, chapters/99-fuzz/model.c,
 *   run/99-fuzz/cells.list, run/99-fuzz/metrics.tsv,
 *   run/99-fuzz/cells/a.txt, run/99-fuzz/cells/a.figs
 * (a missing piece is an absent file, except model.c, always written: a
 * chapter with chapter.c alone reaches qsort(NULL, 0), the undefined
 * behaviour of issue 14 item 5, on every input). fig/x.svg exists.
 * Then weave_chapter runs twice: for the book, and for --title only.
 * Must hold for any input: no crash, no hang, no sanitizer report, no leak.
 * The weaver's messages go to stderr (make fuzz closes it: -close_fd_mask=2).
 */
#include "fuzz.h"
#define WEAVE_NO_MAIN
#include "../book/weave.c"

#define FUZZ_WEAVE_SEP "\n--8<--\n"

int fuzz_weave(const uint8_t *d, size_t n) {
    static const char *const files[6] = {"chapters/99-fuzz/chapter.c", "chapters/99-fuzz/model.c",
                                         "run/99-fuzz/cells.list",      "run/99-fuzz/metrics.tsv",
                                         "run/99-fuzz/cells/a.txt",     "run/99-fuzz/cells/a.figs"};
    static const char *const dirs[5] = {"chapters", "chapters/99-fuzz", "run", "run/99-fuzz", "run/99-fuzz/cells"};
    char root[128], p[512], chapter[256], run[256], fig[256];
    fuzz_path(root, sizeof root, "weave");
    mkdir(root, 0700);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        mkdir(p, 0700);
    }
    snprintf(fig, sizeof fig, "%s/fig", root);
    mkdir(fig, 0700);
    snprintf(p, sizeof p, "%s/x.svg", fig);
    fuzz_write(p, "<svg/>", 6);

    const uint8_t *start[6] = {0};
    size_t len[6] = {0};
    int k = fuzz_split(d, n, FUZZ_WEAVE_SEP, 6, start, len);
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", root, files[i]);
        remove(p);
        if (i < k || i == 1) fuzz_write(p, start[i], len[i]);
    }

    snprintf(chapter, sizeof chapter, "%s/chapters/99-fuzz", root);
    snprintf(run, sizeof run, "%s/run/99-fuzz", root);
    for (int title_only = 0; title_only < 2; title_only++) {
        Weave w = {0};
        w.chapter_dir = chapter;
        w.run_dir = title_only ? NULL : run;
        w.fig_dir = fig;
        w.fig_url = "fig";
        w.title_only = title_only;
        Buf out = {0};
        int errs = weave_chapter(&w, &out);
        FUZZ_CHECK(errs >= 0, "weave_chapter returned %d errors", errs);
        fuzz_sink = out.n;
        weave_free(&w);
        buf_free(&out);
    }
    return 0;
}

FUZZ_ENTRY(fuzz_weave)
