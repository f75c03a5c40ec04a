#!/bin/sh
# exercises/check.sh - make check-exercises: the exercise system proves itself.
#
# 1. make student writes the student tree (and proves no solution line is left in
#    it; that proof is seen to find a line planted in a comment);
# 2. the student tree builds cleanly and every exercise FAILS there, every one of
#    its tests failing and none crashing;
# 3. the teacher's tree passes every exercise;
# 4. in the student tree, two solutions put back (from two files) pass exactly those
#    two exercises, while a third file broken on purpose is reported "does not
#    compile" for its own exercises only: every other exercise is still graded FAIL.
# Environment as for grade.sh (MAKE, BUILD, GRADE_CC), and STUDENT_OUT.
set -eu

MAKE=${MAKE:-make}
BUILD=${BUILD:-build}
out=${STUDENT_OUT:-$BUILD/student}
tsv=exercises/exercises.tsv
die() { printf 'check-exercises: %s\n' "$*" >&2; exit 1; }

if [ -d exercises/start ]; then
    echo "== check-exercises: this is a student tree; nothing to check (make grade grades your work)"
    exit 0
fi

# expect TABLE WHAT CONDITION: every row of the grade table TABLE meets the awk
# CONDITION ($2 exercise, $4 passed, $5 total, $6 crashed, $7 result; the
# variables one, two and broken as set below).
one="" two="" broken_ids=""
expect() {
    awk -F'\t' -v what="$2" -v one="$one" -v two="$two" -v broken=" $broken_ids " '
        NR > 1 && !('"$3"') {
            printf "check-exercises: %s: %s has %s/%s, %s crashed, result %s\n",
                   what, $2, $4, $5, $6, $7 > "/dev/stderr"
            bad = 1
        }
        END { exit bad || NR < 2 }' "$1" || die "$2: see above ($1)"
}

echo "== check-exercises: make student"
$MAKE --no-print-directory student STUDENT_OUT="$out"

echo "== check-exercises: the leak check finds a solution line planted in a comment"
line=$(awk -f exercises/regions.awk -v tsv="$tsv" -v mode=solution lib/ops_nn.c | cut -f2 |
       awk 'length > length(longest) { longest = $0 } END { print longest }')
printf '/* a copy: %s */\n' "$line" > "$out/planted.c"
sh exercises/student.sh --scan "$out" > "$BUILD/check-exercises.log" 2>&1 &&
    die "make student --scan did not find the solution line planted in $out/planted.c"
grep -q "planted.c:1:" "$BUILD/check-exercises.log" ||
    { cat "$BUILD/check-exercises.log"; die "the leak report does not name planted.c"; }
rm "$out/planted.c"

echo "== check-exercises: the student tree builds and every exercise fails with its stub"
( cd "$out" && $MAKE --no-print-directory BUILD=build grade ) > "$BUILD/check-exercises.log" 2>&1 &&
    die "make grade in the student tree passed (it must fail); see $BUILD/check-exercises.log"
[ -f "$out/build/grade.tsv" ] || { cat "$BUILD/check-exercises.log"; die "the student tree did not build"; }
expect "$out/build/grade.tsv" "student tree, every stub must fail cleanly" '$7 == "FAIL" && $4 == 0 && $6 == 0 && $5 > 0'

echo "== check-exercises: the teacher's tree passes every exercise"
$MAKE --no-print-directory grade > "$BUILD/check-exercises.log" 2>&1 ||
    { cat "$BUILD/check-exercises.log"; die "make grade failed in the teacher's tree"; }
expect "$BUILD/grade.tsv" "teacher's tree, every solution must pass" '$7 == "pass" && $6 == 0' 

# solved IDS [BROKEN]: in the student tree, put back the solutions of IDS and
# break the file BROKEN, grade, and hand the tree out again.
solved() {
    for f in $(awk -F'\t' -v ids=" $1 " 'index(ids, " " $1 " ") { print $3 }' "$tsv" | sort -u); do
        awk -f exercises/regions.awk -v tsv="$tsv" -v keep="$1" "$f" > "$out/$f"
    done
    [ -z "${2:-}" ] || printf '\nthis line is not C;\n' >> "$out/$2"
    ( cd "$out" && $MAKE --no-print-directory BUILD=build grade ) > "$BUILD/check-exercises.log" 2>&1 || true
    for f in $(awk -F'\t' '!/^#/ && NF == 5 { print $3 }' "$tsv" | sort -u); do
        cp "$out/exercises/start/$f" "$out/$f" # the student tree as handed out again
    done
}

echo "== check-exercises: two solutions put back pass exactly those two; a broken file fails only its own"
one=ex01-sigmoid-tanh-backward two=ex05-layernorm-backward broken=lib/ops_loss.c
broken_ids=$(awk -F'\t' -v f="$broken" '$3 == f { printf "%s ", $1 }' "$tsv")
solved "$one $two" "$broken"
expect "$out/build/grade.tsv" "student tree with $one and $two solved and $broken broken" \
    '$7 == (index(broken, " " $2 " ") ? "does not compile" : $2 == one || $2 == two ? "pass" : "FAIL")'

if [ -n "${EXERCISES_ALL:-}" ]; then # slow: one build per exercise
    broken_ids="" bad=""
    for one in $(awk -F'\t' '!/^#/ && NF == 5 { print $1 }' "$tsv"); do
        # an exercise whose title says "(needs exNN-...)" is put back with that one
        two=$(awk -F'\t' -v id="$one" '$1 == id && match($5, /\(needs ex[0-9][0-9]-[a-z0-9-]+\)/) {
                                           print substr($5, RSTART + 7, RLENGTH - 8) }' "$tsv")
        echo "== check-exercises: $one${two:+ (with $two)} put back passes, and nothing else"
        solved "$one $two"
        (expect "$out/build/grade.tsv" "student tree with only $one${two:+ and $two} solved" \
            '($2 == one || $2 == two) ? $7 == "pass" : $7 == "FAIL"') ||
            bad="$bad $one"
    done
    [ -z "${bad:-}" ] || die "these exercises do not pass alone:$bad"
fi
echo "== check-exercises: passed"
