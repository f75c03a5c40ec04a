#!/bin/sh
# exercises/grade.sh [NN] - grade the exercises (make grade, make grade-NN).
#
# Builds the test program (build/test/tests, the double build), runs each
# exercise's tests (its Criterion filter in exercises/exercises.tsv), prints
# one row per exercise and a total, and writes the same table as TSV
# (build/grade.tsv, or build/grade-NN.tsv for one chapter). Each exercise's
# test output is kept in build/grade/<id>.log. Exit status 0 only when every
# graded exercise passes.
#
# Chapter 7's exercises (tests "mpi:NAME,...") are graded by the MPI test
# program build/test/dp under mpirun (GRADE_MPIRUN), which prints the same
# "Synthesis:" line; if it does not build, those exercises alone are "does
# not compile" (their file, dp.c, is in no other program the grader runs).
#
# A file that does not compile: its exercises are reported "does not
# compile", and the file is built from its handed-out version instead
# (exercises/start/; in the teacher's tree, its last commit with every
# region stubbed), so the test program still links and every other
# exercise is graded as usual.
# That stand-in object is deleted afterwards, so no later build uses it.
#
# Environment (set by the Makefile): MAKE, BUILD, GRADE_CC, the compiler
# command of the double build (everything but -c and -o), and GRADE_MPIRUN,
# the command that starts 2 ranks.
set -u

chapter=${1:-}
MAKE=${MAKE:-make}
BUILD=${BUILD:-build}
: "${GRADE_CC:?set GRADE_CC to the double build's compiler command (make grade does)}"
tsv=exercises/exercises.tsv
bin=$BUILD/test/tests
mpibin=$BUILD/test/dp
: "${GRADE_MPIRUN:=mpirun -np 2}"
dir=$BUILD/grade
table=$BUILD/grade${chapter:+-$chapter}.tsv
mkdir -p "$dir"

rows=$(awk -F'\t' -v ch="$chapter" '!/^#/ && NF == 5 && (ch == "" || $2 == ch)' "$tsv")
if [ -z "$rows" ]; then
    echo "grade: no exercises${chapter:+ in chapter $chapter} (see $tsv)"
    printf 'chapter\texercise\ttitle\tpassed\ttotal\tcrashed\tresult\n' > "$table"
    exit 0
fi

# ---- 1. build the test program ---------------------------------------------------------
echo "== grade: building $bin (log: $dir/build.log)"
broken=""
standins=""
if ! $MAKE --no-print-directory -k -j2 "$bin" > "$dir/build.log" 2>&1; then
    for f in $(printf '%s\n' "$rows" | awk -F'\t' '$4 !~ /^mpi:/ { print $3 }' | sort -u); do
        obj=$BUILD/double/${f%.c}.o
        $MAKE --no-print-directory -q "$obj" 2>/dev/null && continue
        broken="$broken $f"
        echo "== grade: $f does not compile; grading its exercises as not done:"
        grep -E "^$f:[0-9]+:[0-9]+: error" "$dir/build.log" | head -5
        start=exercises/start/$f
        if [ ! -f "$start" ]; then # the teacher's tree: its last commit, stubbed
            start=$dir/start/$f
            mkdir -p "$(dirname "$start")"
            git show "HEAD:$f" > "$start.head" 2>/dev/null || {
                echo "grade: no exercises/start/$f, nor a git HEAD to build it from" >&2; exit 1; }
            awk -f exercises/regions.awk -v tsv="$tsv" -v name="$f" "$start.head" > "$start" || exit 1
        fi
        mkdir -p "$(dirname "$obj")"
        # a chapter's model file includes its own header and those of the chapters it needs
        inc="-I$(dirname "$f")"
        for d in $(cat "$(dirname "$f")/deps" 2>/dev/null); do inc="$inc -Ichapters/$d"; done
        $GRADE_CC $inc -c "$start" -o "$obj" >> "$dir/build.log" 2>&1 || {
            echo "grade: even the handed-out $start does not compile (log: $dir/build.log)" >&2; exit 1; }
        standins="$standins $obj"
    done
    if ! $MAKE --no-print-directory -j2 "$bin" >> "$dir/build.log" 2>&1; then
        [ -n "$standins" ] && rm -f $standins
        echo "grade: the test program does not build, and not because of an exercise's file:" >&2
        grep -E "error|undefined reference" "$dir/build.log" | head -20 >&2
        echo "grade: the whole log is $dir/build.log" >&2
        exit 1
    fi
fi

# the MPI test program, when an exercise needs it
if printf '%s\n' "$rows" | awk -F'\t' '$4 ~ /^mpi:/ { found = 1 } END { exit !found }'; then
    echo "== grade: building $mpibin (log: $dir/build-mpi.log)"
    if ! $MAKE --no-print-directory -j2 "$mpibin" > "$dir/build-mpi.log" 2>&1; then
        for f in $(printf '%s\n' "$rows" | awk -F'\t' '$4 ~ /^mpi:/ { print $3 }' | sort -u); do
            broken="$broken $f"
            echo "== grade: $mpibin does not build; grading the exercises of $f as not done:"
            grep -E "error" "$dir/build-mpi.log" | head -5
        done
    fi
fi

# ---- 2. each exercise's tests ----------------------------------------------------------
printf 'chapter\texercise\ttitle\tpassed\ttotal\tcrashed\tresult\n' > "$table"
printf '%s\n' "$rows" | while IFS="$(printf '\t')" read -r id ch file tests title; do
    log=$dir/$id.log
    case "$tests" in
    # mpirun forwards its standard input to rank 0: give it none, or it eats the rows
    mpi:*) case " $broken " in *" $file "*) : > "$log" ;;
           *) timeout 300 $GRADE_MPIRUN "$mpibin" --only "${tests#mpi:}" < /dev/null > "$log" 2>&1 ;; esac ;;
    *) OMP_WAIT_POLICY=passive "$bin" --filter "$tests" --jobs 2 --timeout 60 --color=never > "$log" 2>&1 ;;
    esac
    # Criterion's last line: "Synthesis: Tested: 2 | Passing: 1 | Failing: 1 | Crashing: 0"
    n='\([0-9]*\)'
    set -- $(sed -n "s/.*Synthesis: Tested: $n | Passing: $n | Failing: $n | Crashing: $n.*/\1 \2 \4/p" "$log") 0 0 0
    total=$1 passed=$2 crashed=$3
    case " $broken " in
    *" $file "*) passed=0 result="does not compile" ;;
    *) if [ "$total" = 0 ]; then result="no tests"
       elif [ "$passed" = "$total" ]; then result=pass
       else result=FAIL; fi ;;
    esac
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ch" "$id" "$title" "$passed" "$total" "$crashed" "$result" >> "$table"
done
[ -n "$standins" ] && rm -f $standins

# ---- 3. the table ----------------------------------------------------------------------
awk -F'\t' '
    NR == 1 { printf "%-3s %-32s %-50s %6s  %s\n", "ch", "exercise", "what it asks", "tests", "result"; next }
    {
        printf "%-3s %-32s %-50s %6s  %s%s\n", $1, $2, $3, $4 "/" $5, $7, ($6 > 0 ? " (" $6 " crashed)" : "")
        n++; tp += $4; tt += $5; if ($7 == "pass") np++
    }
    END {
        printf "total: %d of %d exercises pass; %d of %d tests pass\n", np, n, tp, tt
        exit np == n ? 0 : 1
    }' "$table"
status=$?
echo "== grade: table in $table; why an exercise fails: $dir/<exercise>.log"
exit $status
