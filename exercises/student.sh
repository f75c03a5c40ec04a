#!/bin/sh
# exercises/student.sh OUT - write the student tree into OUT (make student).
#
# OUT gets every file of the project (git ls-files: tracked files and new
# ones not ignored; no .git, so no history), with every solution region
# replaced by its TODO comment and stub (exercises/regions.awk), a copy of
# each file as handed out in OUT/exercises/start/ (the grader builds a file
# that does not compile from there, and a student can start over from it),
# and README-STUDENT.md. Then it proves that no solution line is left in OUT.
# With --scan, only that proof, on an existing OUT (make check-exercises
# plants a solution line to see it fail). POSIX sh and awk, plus git; no python.
set -eu

scan_only=""
if [ "${1:-}" = --scan ]; then scan_only=1; shift; fi
out=${1:?usage: sh exercises/student.sh [--scan] OUTDIR}
tsv=exercises/exercises.tsv
regions="exercises/regions.awk"
die() { printf 'make student: %s\n' "$*" >&2; exit 1; }

[ -f "$tsv" ] && [ -f "$regions" ] || die "run me from the project's top directory"
[ ! -d exercises/start ] || die "this is a student tree already; make student runs in the teacher's tree"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
    die "the teacher's tree must be a git work tree (its file list comes from git ls-files)"
case "$out" in /|.|./|..|../|"") die "refusing to write into '$out'" ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=${out#./}/
git ls-files --cached --others --exclude-standard | sort -u > "$tmp/files"
grep -E '\.[ch]$' "$tmp/files" | while IFS= read -r f; do
    [ -f "$f" ] && grep -l '^[[:space:]]*/\* BEGIN SOLUTION ' "$f" || true
done > "$tmp/marked"
[ -s "$tmp/marked" ] || die "no solution regions found (/* BEGIN SOLUTION id) in any .c or .h file"

if [ -z "$scan_only" ]; then
rm -rf "$out"
mkdir -p "$out"

# ---- 1. the project's files, as they are in the work tree ---------------------------
n=0
while IFS= read -r f; do
    case "$f" in "$prefix"*) continue ;; esac # the output itself, when not under build/
    [ -f "$f" ] || continue                     # deleted in the work tree
    mkdir -p "$out/$(dirname "$f")"
    cp "$f" "$out/$f"
    n=$((n + 1))
done < "$tmp/files"

# ---- 2. the solution regions replaced by their stubs -----------------------------------
: > "$tmp/regions"
while IFS= read -r f; do
    mkdir -p "$out/exercises/start/$(dirname "$f")"
    awk -f "$regions" -v tsv="$tsv" "$f" > "$out/$f" || die "$f: a malformed region (above)"
    cp "$out/$f" "$out/exercises/start/$f"
    awk -f "$regions" -v tsv="$tsv" -v mode=list "$f" >> "$tmp/regions"
done < "$tmp/marked"

# every exercise of the table has a region, in its file
awk -F'\t' -v tsv="$tsv" '
    NR == FNR { have[$1] = 1; next }
    /^#/ || NF == 0 { next }
    !($1 in have) { printf "make student: %s (%s) has no solution region in %s\n", $1, tsv, $3 > "/dev/stderr"; bad = 1 }
    END { exit bad }' "$tmp/regions" "$tsv" || exit 1

# ---- 3. the student's README: how to work, then the exercises ---------------------------
{
    cat exercises/README-student.md
    printf '\n## The exercises\n\n'
    printf '| chapter | exercise | what it asks | graded by (`build/test/tests --filter ...`) |\n'
    printf '|---|---|---|---|\n'
    awk -F'\t' '!/^#/ && NF == 5 { t = $4; gsub(/\|/, "\\|", t)  # a | in a table cell is \|
                                   printf "| %s | `%s` | %s | `%s` |\n", $2, $1, $5, t }' "$tsv"
} > "$out/README-STUDENT.md"
fi

# ---- 4. no solution text left ---------------------------------------------------------
# A solution line (trimmed, 12 characters or more) must not be a line of any
# file in OUT, nor (from 24 characters on) a part of one, unless the library
# or a chapter shows it anyway outside every region (a declaration such as
# `Tensor *a = out->in[0];`): those lines are what a student reads anyway.
for f in lib/*.c lib/*.h chapters/*/*.c chapters/*/*.h; do
    if grep -qx "$f" "$tmp/marked"; then awk -f "$regions" -v tsv="$tsv" -v mode=outside "$f"
    else sed 's/^[[:space:]]*//; s/[[:space:]]*$//' "$f"; fi
done | sort -u > "$tmp/shown"
# (a solution line that is part of a shown line, such as a generic loop head, is shown too)
while IFS= read -r f; do awk -f "$regions" -v tsv="$tsv" -v mode=solution "$f"; done < "$tmp/marked" |
    awk -F'\t' 'NR == FNR { shown[$0] = 1; all[++n] = $0; next }
                length($2) >= 12 && !($2 in shown) {
                    part = 0
                    for (i = 1; !part && i <= n; i++) part = index(all[i], $2) > 0
                    if (!part) print $2
                }' "$tmp/shown" - | sort -u > "$tmp/patterns"
[ -s "$tmp/patterns" ] || die "no solution lines to look for: the leak check would prove nothing"
find "$out" -path "$out/build" -prune -o -type f -print | sort > "$tmp/all" # build/: the student's own
if ! awk 'FILENAME == ARGV[1] { exact[$0] = 1; if (length($0) >= 24) part[++np] = $0; next }
          {
              t = $0; sub(/^[ \t]+/, "", t); sub(/[ \t]+$/, "", t)
              hit = t in exact
              for (i = 1; !hit && i <= np; i++) hit = index($0, part[i]) > 0
              if (hit) { printf "%s:%d: %s\n", FILENAME, FNR, t; found++ }
          }
          END { exit found > 0 }' "$tmp/patterns" $(cat "$tmp/all") > "$tmp/leaks"; then
    echo "make student: solution text left in the student tree:" >&2
    head -20 "$tmp/leaks" >&2
    exit 1
fi
# a marker starts its line (regions.awk); the weaver and its test only name it in strings
if grep -rln --include='*.[ch]' '^[[:space:]]*/\* \(BEGIN\|END\) SOLUTION' "$out" > "$tmp/leaks"; then
    echo "make student: a solution marker is left in:" >&2
    cat "$tmp/leaks" >&2
    exit 1
fi

if [ -n "$scan_only" ]; then
    echo "make student --scan: $out: none of $(wc -l < "$tmp/patterns") solution lines found"
    exit 0
fi
nreg=$(wc -l < "$tmp/regions")
nex=$(cut -f1 "$tmp/regions" | sort -u | wc -l)
nlines=$(wc -l < "$tmp/patterns")
echo "make student: $out: $n files; $nex exercises ($nreg regions in $(wc -l < "$tmp/marked") files) replaced by stubs;" \
     "none of their $nlines solution lines is left in it"
