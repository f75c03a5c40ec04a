#!/bin/sh
# book/build.sh: builds the book under $BOOK_OUT from the chapters' last runs.
# Called by `make book` (book/book.mk), which passes the paths below.
#
#   1. weaves every chapters/NN-slug/ into $BOOK_OUT/md/NN-slug.md
#      (book/weave.c: prose, code, each cell's recorded output and figures);
#   2. checks that every figure the front matter and appendices show exists;
#   3. if anything is missing, names all of it and fails, building nothing;
#   4. pandoc renders index.html (front matter + table of contents), one page
#      per chapter and per appendix, prev/next links, MathML, highlighted C;
#   5. copies the SVG figures to $BOOK_OUT/fig/ and book/style.css beside the pages.
#
# Leaves out: running the chapters or drawing the figures (make course / make plots).
set -eu

: "${CHAPTERS:=chapters}"        # chapters/NN-slug/
: "${RUN_DIR:=build/run}"        # build/run/NN-slug/
: "${FIG_DIR:=build/fig}"        # build/fig/<figure>.svg
: "${BOOK_OUT:=build/book}"      # the built book
: "${WEAVE:=build/bin/weave}"
: "${BOOK_SRC:=book}"            # this directory
: "${PANDOC:=pandoc}"

BOOK_TITLE="Generative models from scratch, in C"

command -v "$PANDOC" >/dev/null 2>&1 || {
    echo "make book: pandoc is missing: apt-get install pandoc" >&2; exit 1; }
[ -x "$WEAVE" ] || { echo "make book: $WEAVE is missing: build it with 'make $WEAVE'" >&2; exit 1; }

md="$BOOK_OUT/md"
mkdir -p "$md" "$BOOK_OUT/fig"
errors="$BOOK_OUT/.errors"
: > "$errors"

# ------------------------------------------------------------ the pages, in order
# Each line of $pages: <html name>\t<markdown file>\t<title>
pages="$BOOK_OUT/.pages"
: > "$pages"

n_chapters=0
for dir in "$CHAPTERS"/[0-9][0-9]-*/; do
    [ -d "$dir" ] || continue
    dir=${dir%/}
    slug=$(basename "$dir")
    if [ ! -f "$dir/chapter.c" ]; then
        echo "make book: warning: $dir has no chapter.c yet; left out of the book" >&2; continue
    fi
    if "$WEAVE" --run "$RUN_DIR/$slug" --fig "$FIG_DIR" --figurl fig -o "$md/$slug.md" "$dir" 2> "$md/$slug.err"; then
        cat "$md/$slug.err" >&2
        title=$("$WEAVE" --title "$dir")
        printf '%s.html\t%s\t%s\n' "$slug" "$md/$slug.md" "$title" >> "$pages"
        n_chapters=$((n_chapters + 1))
    else
        grep -v -e '^weave: warning' -e '^weave: [0-9]* errors* in ' "$md/$slug.err" | sed 's/^weave: error: //' >> "$errors" || true
        grep '^weave: warning' "$md/$slug.err" >&2 || true
    fi
    rm -f "$md/$slug.err"
done

# The hand-written pages: their {{NN/name:FMT}} placeholders filled from the runs.
fill_page() { # $1 page.md, $2 filled copy
    "$WEAVE" --page "$1" --runs "$RUN_DIR" -o "$2" 2> "$2.err" ||
        sed -e '/^weave: [0-9]* errors* in /d' -e 's/^weave: error: //' "$2.err" >> "$errors"
    rm -f "$2.err"
}
for app in "$BOOK_SRC"/appendix-*.md; do
    [ -f "$app" ] || continue
    name=$(basename "$app" .md)
    title=$(sed -n "s/^title: *['\"]\{0,1\}\(.*[^'\"]\)['\"]\{0,1\} *$/\1/p" "$app" | head -n 1)
    fill_page "$app" "$md/$name.md"
    printf '%s.html\t%s\t%s\n' "$name" "$md/$name.md" "$title" >> "$pages"
done
fill_page "$BOOK_SRC/index.md" "$md/index.filled.md"

# Figures shown by the hand-written pages must exist too.
for src in "$BOOK_SRC/index.md" "$BOOK_SRC"/appendix-*.md; do
    [ -f "$src" ] || continue
    grep -o '](fig/[^) ]*' "$src" | sed 's/^](fig\///' | while read -r f; do
        [ -f "$FIG_DIR/$f" ] || echo "$src shows fig/$f, but $FIG_DIR/$f is missing. Draw it with 'make plots'." >> "$errors"
    done
done

if [ -s "$errors" ]; then
    {
        echo "make book: cannot build the book; missing or wrong:"
        sed 's/^/  - /' "$errors"
        echo "Run the chapters and draw their figures first ('make course', or 'make run-NN' then 'make plots')."
    } >&2
    exit 1
fi
[ "$n_chapters" -gt 0 ] || echo "make book: warning: no chapter in $CHAPTERS/ yet; building front matter and appendices only" >&2

# -------------------------------------------------------------- the index page
# book/index.md with its '<!-- contents -->' line replaced by the table of contents.
toc="$BOOK_OUT/.toc.md"
{
    while IFS="$(printf '\t')" read -r html src title; do
        case "$html" in
            [0-9][0-9]-*) nn=${html%%-*}; echo "$((1$nn - 100)). [$title]($html)" ;;
        esac
    done < "$pages"
    echo
    echo "Appendices:"
    echo
    while IFS="$(printf '\t')" read -r html src title; do
        case "$html" in appendix-*) echo "- [$title]($html)" ;; esac
    done < "$pages"
} > "$toc"
index_md="$md/index.md"
awk -v toc="$toc" '
    /^<!-- contents -->$/ { while ((getline line < toc) > 0) print line; next }
    { print }' "$md/index.filled.md" > "$index_md"
{ printf 'index.html\t%s\t%s\n' "$index_md" "$BOOK_TITLE"; cat "$pages"; } > "$pages.all"

# ----------------------------------------------------------------- pandoc
cp "$BOOK_SRC/style.css" "$BOOK_OUT/style.css"
rm -f "$BOOK_OUT"/fig/*.svg
for f in "$FIG_DIR"/*.svg; do [ -f "$f" ] && cp "$f" "$BOOK_OUT/fig/"; done

math_failed=0
esc() { printf '%s' "$1" | sed 's/\$//g; s/\\//g; s/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }
total=$(wc -l < "$pages.all")
BOOK_PAGES=$(cut -f1 "$pages.all" | tr '\n' ' ')
export BOOK_PAGES
# pandoc renders $JOBS pages at a time (the number of cores unless make
# passes JOBS): render I SRC ARGS... runs one, its messages kept in
# .pandoc.I.err, its failure marked by .pandoc.I.failed, all read below.
: "${JOBS:=$(nproc 2>/dev/null || echo 2)}"
render() {
    n=$1 page=$2; shift 2
    rm -f "$BOOK_OUT/.pandoc.$n.failed"
    "$PANDOC" "$@" "$page" 2> "$BOOK_OUT/.pandoc.$n.err" || : > "$BOOK_OUT/.pandoc.$n.failed"
}
running=0
i=0
prev_html=""; prev_title=""
while IFS="$(printf '\t')" read -r html src title; do
    i=$((i + 1))
    next=$(sed -n "$((i + 1))p" "$pages.all")
    next_html=$(printf '%s' "$next" | cut -f1)
    next_title=$(printf '%s' "$next" | cut -f3)
    set -- --from markdown+smart --to html5 --standalone --mathml \
        --template "$BOOK_SRC/template.html" --highlight-style pygments \
        --metadata book-title="$BOOK_TITLE" --section-divs \
        --output "$BOOK_OUT/$html"
    [ "$html" = index.html ] || set -- "$@" --toc --toc-depth 2
    [ -n "$prev_html" ] && set -- "$@" -V prev-href="$prev_html" -V prev-title="$(esc "$prev_title")"
    [ -n "$next_html" ] && set -- "$@" -V next-href="$next_html" -V next-title="$(esc "$next_title")"
    [ "$html" = index.html ] && set -- "$@" -V is-index=true
    case "$html" in [0-9][0-9]-*) ;; *) set -- "$@" --lua-filter "$BOOK_SRC/links.lua" ;; esac
    render "$i" "$src" "$@" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait; running=0; fi
    prev_html=$html; prev_title=$title
done < "$pages.all"
wait

# Each page's messages, in page order, once every pandoc has finished.
i=0
while IFS="$(printf '\t')" read -r html src title; do
    i=$((i + 1))
    err="$BOOK_OUT/.pandoc.$i.err"
    if [ -f "$BOOK_OUT/.pandoc.$i.failed" ]; then
        cat "$err" >&2; echo "make book: pandoc failed on $src" >&2; exit 1
    fi
    grep -v '^\[WARNING\] Could not convert TeX math' "$err" >&2 || true
    if grep -q 'Could not convert TeX math' "$err"; then
        echo "make book: $src has math that pandoc cannot turn into MathML:" >&2
        grep -A3 'Could not convert TeX math' "$err" | sed 's/^/  /' >&2
        echo "  (texmath does not know every LaTeX command: rewrite it, e.g. \\left( \\right) for \\Bigl( \\Bigr))" >&2
        math_failed=1
    fi
    rm -f "$err"
done < "$pages.all"

rm -f "$errors" "$toc" "$pages"
[ "$math_failed" = 0 ] || { echo "make book: failed: math that does not render (see above)" >&2; exit 1; }
mv "$pages.all" "$BOOK_OUT/pages.tsv"
echo "book: $total pages ($n_chapters chapters) in $BOOK_OUT/; open $BOOK_OUT/index.html"
