/* tests/test_errata.c: the book's hand-written pages (book/<page>.md) point only at
 * sections that exist, and quote the source article byte for byte.
 *
 * Proven here:
 *   - every link in book/<page>.md to a chapter page ("NN-slug.html", with or
 *     without "#id") names an existing chapters/NN-slug/, and its #id is an id
 *     that pandoc gives a heading of that chapter's page; a link to another
 *     hand-written page ("appendix-x.html#id", "index.html#id") names an id
 *     of that page's headings;
 *   - every '::: erratum' block of Appendix A has a "**See it run:**" line
 *     with at least one such chapter link carrying an #id;
 *   - every quote (a line of book/<page>.md that starts with '>') is the article's
 *     own text: each [..]{lang=zh} span and each `code` span on it, and each
 *     line of a fenced block inside it, occurs byte for byte in the article.
 *     The article is not part of the project: its path is $ARTICLE, else
 *     ../shared/source-article.txt; without it this test is skipped, saying so.
 *
 * A chapter page's ids, as book/weave.c and pandoc make them: the '#'
 * headings of the chapter's prose blocks (a line "/\*md" to a line "*\/") in
 * weave order (chapter.c, then its other .c files by name), outside fenced
 * code, except the first heading of chapter.c, which the weaver turns into
 * the page title; plus the heading the weaver appends ("headline-figures").
 * An id is the heading's {#id} if it has one, else pandoc's auto_identifiers
 * rule: the text without markup, lowercased, keeping letters, digits, '_',
 * '-' and '.', words joined by '-', everything before the first letter
 * dropped; a repeated id gets -1, -2, ... Non-ASCII: CJK and accented Latin
 * letters count as letters, other symbols (’, —, →, ×) are dropped.
 *
 * Runs from the repository root (make unit does). No tolerances: every check
 * is an exact string property, and each failure names the file and line.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS 512
#define MAX_ID 160

typedef struct {
    int n;
    char id[MAX_IDS][MAX_ID];
} IdSet;

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert(s, "out of memory reading %s", path);
    cr_assert(fread(s, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int idset_has(const IdSet *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->id[i], id)) return 1;
    return 0;
}

/* Adds id, or id-1, id-2, ... if it is taken (pandoc's rule for repeats). */
static void idset_add(IdSet *s, const char *id)
{
    cr_assert(s->n < MAX_IDS, "more than %d headings on one page", MAX_IDS);
    char *dst = s->id[s->n];
    snprintf(dst, MAX_ID, "%s", id);
    for (int k = 1; idset_has(s, dst); k++) snprintf(dst, MAX_ID, "%s-%d", id, k);
    s->n++;
}

/* Length of the UTF-8 sequence at p, and whether it is a letter we keep. */
static int utf8_letter(const unsigned char *p, int *len)
{
    unsigned cp;
    if (p[0] < 0xE0) *len = 2, cp = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
    else if (p[0] < 0xF0) *len = 3, cp = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    else *len = 4, cp = 0;
    for (int i = 1; i < *len; i++)
        if (!p[i]) { *len = i; return 0; }
    int latin = cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7;
    int cjk = cp >= 0x4E00 && cp <= 0x9FFF;
    return latin || cjk;
}

/* pandoc's auto identifier of a heading's text (see the header). */
static void slug(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    int started = 0, pending_dash = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && n + 8 < cap) {
        int len = 1, keep;
        if (*p >= 0x80) {
            keep = utf8_letter(p, &len);
            if (keep) started = 1;
        } else if (*p == ' ' || *p == '\t') {
            if (started) pending_dash = 1;
            p++;
            continue;
        } else if (*p == '_') { /* emphasis at a word's edge, literal inside a word */
            int edge = p == (const unsigned char *)text || p[-1] == ' ' || !p[1] || p[1] == ' ';
            keep = !edge && started;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
            keep = started = 1;
        } else {
            keep = started && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '.');
        }
        if (keep) {
            if (pending_dash && n) out[n++] = '-';
            pending_dash = 0;
            for (int i = 0; i < len; i++) {
                unsigned char c = p[i];
                out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            }
        }
        p += len;
    }
    out[n] = '\0';
    if (!n) snprintf(out, cap, "section");
}

/* If line is a Markdown heading ("#".."######", a space, text), the id
 * pandoc gives it, in id; returns 0 if it is not a heading. */
static int heading_id(const char *line, size_t len, char *id, size_t cap)
{
    size_t h = 0;
    while (h < len && line[h] == '#') h++;
    if (h == 0 || h > 6 || h >= len || line[h] != ' ') return 0;
    char text[512];
    size_t tl = len - h - 1 < sizeof text - 1 ? len - h - 1 : sizeof text - 1;
    memcpy(text, line + h + 1, tl);
    text[tl] = '\0';
    while (tl && (text[tl - 1] == ' ' || text[tl - 1] == '#')) text[--tl] = '\0';
    char *attr = tl && text[tl - 1] == '}' ? strrchr(text, '{') : NULL;
    if (attr) {
        char *hash = strchr(attr, '#');
        *attr = '\0';
        if (hash) {
            size_t k = strcspn(hash + 1, " }");
            snprintf(id, cap, "%.*s", (int)k, hash + 1);
            return 1;
        }
    }
    slug(text, id, cap);
    return 1;
}

static int is_fence(const char *line) { return !strncmp(line, "```", 3) || !strncmp(line, "~~~", 3); }

/* Adds the ids of the headings of Markdown text (outside fenced code);
 * skip_first drops the first heading (a chapter page's title). */
static void add_markdown_ids(IdSet *s, const char *md, int *skip_first)
{
    int fence = 0;
    for (const char *p = md; *p;) {
        size_t len = strcspn(p, "\n");
        char id[MAX_ID];
        if (is_fence(p)) fence = !fence;
        else if (!fence && heading_id(p, len, id, sizeof id)) {
            if (*skip_first) *skip_first = 0;
            else idset_add(s, id);
        }
        p += len + (p[len] == '\n');
    }
}

/* The prose of one C source: its /\*md blocks, joined; NULL if unreadable. */
static char *prose_of(const char *path)
{
    char *src = read_all(path);
    if (!src) return NULL;
    char *out = calloc(strlen(src) + 1, 1);
    cr_assert(out, "out of memory");
    int in = 0;
    for (char *p = src; *p;) {
        size_t len = strcspn(p, "\n");
        size_t l = len && p[len - 1] == '\r' ? len - 1 : len;
        if (!in && l == 4 && !strncmp(p, "/*md", 4)) in = 1;
        else if (in && l == 2 && !strncmp(p, "*/", 2)) in = 0, strcat(out, "\n");
        else if (in) strncat(out, p, len + (p[len] == '\n'));
        p += len + (p[len] == '\n');
    }
    free(src);
    return out;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The ids of chapter page slug ("02-gan-loss"); 0 if chapters/slug/ has no chapter.c. */
static int chapter_ids(const char *slug_name, IdSet *s)
{
    char path[512];
    s->n = 0;
    snprintf(path, sizeof path, "chapters/%s/chapter.c", slug_name);
    char *prose = prose_of(path);
    if (!prose) return 0;
    int skip_title = 1;
    add_markdown_ids(s, prose, &skip_title);
    free(prose);
    snprintf(path, sizeof path, "chapters/%s", slug_name);
    DIR *d = opendir(path);
    cr_assert(d, "cannot open %s", path);
    char *names[64];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 64;) {
        size_t L = strlen(e->d_name);
        if (L > 2 && !strcmp(e->d_name + L - 2, ".c") && strcmp(e->d_name, "chapter.c")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "chapters/%s/%s", slug_name, names[i]);
        prose = prose_of(path);
        int no_skip = 0;
        if (prose) add_markdown_ids(s, prose, &no_skip);
        free(prose);
        free(names[i]);
    }
    idset_add(s, "headline-figures"); /* book/weave.c appends it to every chapter */
    return 1;
}

/* The ids of a hand-written page ("appendix-a-errata.html"); 0 if no such page. */
static int page_ids(const char *html, IdSet *s)
{
    char path[512];
    s->n = 0;
    snprintf(path, sizeof path, "book/%.*s.md", (int)(strlen(html) - 5), html);
    char *md = read_all(path);
    if (!md) return 0;
    int no_skip = 0;
    add_markdown_ids(s, md, &no_skip);
    free(md);
    return 1;
}

/* Checks one link target of page:line; returns the number of problems. */
static int check_target(const char *page, int line, const char *target)
{
    char name[256], id[MAX_ID] = "";
    size_t k = strcspn(target, "#");
    snprintf(name, sizeof name, "%.*s", (int)k, target);
    if (target[k]) snprintf(id, sizeof id, "%s", target + k + 1);
    size_t L = strlen(name);
    if (L < 6 || strcmp(name + L - 5, ".html") || strchr(name, '/') || strchr(name, ':')) return 0;
    int chapter = name[0] >= '0' && name[0] <= '9' && name[1] >= '0' && name[1] <= '9' && name[2] == '-';
    static IdSet ids;
    char base[256];
    snprintf(base, sizeof base, "%.*s", (int)(L - 5), name);
    int exists = chapter ? chapter_ids(base, &ids) : page_ids(name, &ids);
    if (!exists) {
        cr_log_error("%s:%d: link to %s: no such %s", page, line, target,
                     chapter ? "chapter (chapters/<name>/chapter.c)" : "page (book/<name>.md)");
        return 1;
    }
    if (*id && !idset_has(&ids, id)) {
        cr_log_error("%s:%d: link to %s: %s has no heading with id '%s'", page, line, target, name, id);
        return 1;
    }
    return 0;
}

/* Calls check_target on every inline link "](target)" of a Markdown file. */
static int check_links(const char *page, const char *md, int *n_links)
{
    int bad = 0, line = 1;
    for (const char *p = md; *p; p++) {
        if (*p == '\n') line++;
        if (p[0] != ']' || p[1] != '(') continue;
        size_t k = strcspn(p + 2, ") \n");
        char target[512];
        snprintf(target, sizeof target, "%.*s", (int)k, p + 2);
        bad += check_target(page, line, target);
        (*n_links)++;
    }
    return bad;
}

static char *book_page(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "book/%s", name);
    char *md = read_all(path);
    cr_assert(md, "cannot read %s (the tests run from the repository root)", path);
    return md;
}

/* The names of book/<page>.md, sorted; returns their count. */
static int book_pages(char *names[], int cap)
{
    DIR *d = opendir("book");
    cr_assert(d, "cannot open book/ (the tests run from the repository root)");
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < cap;) {
        size_t L = strlen(e->d_name);
        if (L > 3 && !strcmp(e->d_name + L - 3, ".md")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    return n;
}

Test(errata, every_link_of_the_book_pages_names_an_existing_chapter_and_heading)
{
    char *names[32];
    int n = book_pages(names, 32), bad = 0, links = 0;
    for (int i = 0; i < n; i++) {
        char *md = book_page(names[i]);
        char page[300];
        snprintf(page, sizeof page, "book/%s", names[i]);
        bad += check_links(page, md, &links);
        free(md);
        free(names[i]);
    }
    cr_assert(links > 0, "found no links in the book's pages at all");
    cr_assert(bad == 0, "%d of %d links in the book's pages do not resolve (listed above)", bad, links);
}

static int line_is(const char *p, size_t len, const char *s) { return len == strlen(s) && !strncmp(p, s, len); }

/* Whether p[0..len) holds a link "](NN-slug.html#id)". */
static int has_chapter_anchor_link(const char *p, size_t len)
{
    for (const char *q = p; q + 5 < p + len; q++) {
        if (q[0] != ']' || q[1] != '(' || q[2] < '0' || q[2] > '9' || q[3] < '0' || q[3] > '9' || q[4] != '-')
            continue;
        size_t k = strcspn(q, ")\n");
        if (memchr(q, '#', k)) return 1;
    }
    return 0;
}

Test(errata, every_erratum_has_a_see_it_run_link_to_a_chapter_heading)
{
    char *md = book_page("appendix-a-errata.md");
    int entries = 0, bad = 0, line = 1, start = 0, in = 0, marker = 0, link = 0;
    for (char *p = md; *p; line++) {
        size_t len = strcspn(p, "\n");
        if (line_is(p, len, "::: erratum")) {
            in = 1, marker = 0, link = 0, start = line, entries++;
        } else if (in && line_is(p, len, ":::")) {
            if (!link) {
                cr_log_error("book/appendix-a-errata.md:%d: an erratum without a '**See it run:**' "
                             "line linking a chapter heading (NN-slug.html#id)", start);
                bad++;
            }
            in = 0;
        } else if (in) {
            if (!strncmp(p, "**See it run:**", 15)) marker = 1;
            if (marker && has_chapter_anchor_link(p, len)) link = 1;
        }
        p += len + (p[len] == '\n');
    }
    free(md);
    cr_assert(entries > 0, "Appendix A has no '::: erratum' blocks");
    cr_assert(bad == 0, "%d of %d errata have no 'See it run' link to a chapter heading", bad, entries);
}

/* The pieces a quote line holds: [..]{lang=zh} spans and `code` spans; what
 * else is on the line must be blank. Checks each against the article. */
static int check_quote_line(const char *page, int line, const char *q, size_t len, const char *article, int *pieces)
{
    int bad = 0;
    char piece[2048];
    for (size_t i = 0; i < len;) {
        size_t b = i, e;
        if (q[i] == '`') {
            for (e = i + 1; e < len && q[e] != '`'; e++) {}
            snprintf(piece, sizeof piece, "%.*s", (int)(e - b - 1), q + b + 1);
            i = e + 1;
        } else if (q[i] == '[') {
            const char *end = NULL;
            for (e = i + 1; e + 10 <= len; e++)
                if (!strncmp(q + e, "]{lang=zh}", 10)) { end = q + e; break; }
            if (!end) {
                cr_log_error("%s:%d: a quote's '[' has no closing ']{lang=zh}'", page, line);
                return bad + 1;
            }
            snprintf(piece, sizeof piece, "%.*s", (int)(end - q - b - 1), q + b + 1);
            i = (size_t)(end - q) + 10;
        } else if (q[i] == ' ') {
            i++;
            continue;
        } else {
            cr_log_error("%s:%d: text in a quote that is not a [..]{lang=zh} or `code` span: '%.*s'",
                         page, line, (int)(len - i), q + i);
            return bad + 1;
        }
        (*pieces)++;
        if (!strstr(article, piece)) {
            cr_log_error("%s:%d: quoted, but not in the article: '%s'", page, line, piece);
            bad++;
        }
    }
    return bad;
}

Test(errata, every_quote_in_the_book_pages_is_the_articles_text)
{
    const char *path = getenv("ARTICLE") ? getenv("ARTICLE") : "../shared/source-article.txt";
    char *article = read_all(path);
    if (!article) cr_skip_test("the article is not at %s: set ARTICLE=/path/to/source-article.txt", path);
    char *names[32];
    int n = book_pages(names, 32), bad = 0, pieces = 0;
    for (int i = 0; i < n; i++) {
        char *md = book_page(names[i]), page[300];
        snprintf(page, sizeof page, "book/%s", names[i]);
        int line = 1, fence = 0;
        for (char *p = md; *p; line++) {
            size_t len = strcspn(p, "\n");
            if (p[0] != '>') fence = 0;
            else {
                const char *q = p + 1 + (len > 1 && p[1] == ' ');
                size_t ql = len - (size_t)(q - p);
                if (is_fence(q)) fence = !fence;
                else if (fence) {
                    char piece[2048];
                    snprintf(piece, sizeof piece, "%.*s", (int)ql, q);
                    pieces++;
                    if (!strstr(article, piece)) {
                        cr_log_error("%s:%d: quoted code, but not in the article: '%s'", page, line, piece);
                        bad++;
                    }
                } else bad += check_quote_line(page, line, q, ql, article, &pieces);
            }
            p += len + (p[len] == '\n');
        }
        free(md);
        free(names[i]);
    }
    free(article);
    cr_assert(bad == 0, "%d of %d quoted pieces in the book's pages are not the article's text (listed above)", bad, pieces);
}
