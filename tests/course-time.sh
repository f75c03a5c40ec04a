#!/bin/sh
# tests/course-time.sh - bench/course-time.sh on a made-up course: the stage
# times come from the stamps, the chapter rows from each timing.tsv, chapter
# 07 is marked as one process per rank, a missing probe prints "?", and a
# course that never ran stops with a message and exit 66. (make check)
set -u
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
fail() { echo "course-time test: $*" >&2; exit 1; }

mkdir -p "$dir/run/02-ring" "$dir/run/07-ranks"
printf 'start\t1000.0\nbuild\t1010.5\nprobe\t1011.0\nchapters\t1500.0\nprobe\t1500.5\nfigures\t1506.0\nbook\t1510.0\n' \
    > "$dir/course-stages.tsv"
printf 'wall time of the run\t61.14\ts\npeak memory (max RSS)\t29.49\tMB\n' > "$dir/run/02-ring/timing.tsv"
printf 'cores it kept busy (its CPU time / wall time)\t1.823\t\n' >> "$dir/run/02-ring/timing.tsv"
printf 'wall time of the run\t46.26\ts\npeak memory (max RSS)\t415.07\tMB\n' > "$dir/run/07-ranks/timing.tsv"
printf 'cores it kept busy (its CPU time / wall time)\t0.99\t\n' >> "$dir/run/07-ranks/timing.tsv"
printf '  peak 1 thread    222.7 GFLOP/s\n' > "$dir/course-peak-before.txt"

out=$(sh bench/course-time.sh "$dir" "07") || fail "exit $? on a complete course"
expect() { printf '%s\n' "$out" | grep -qF -- "$1" || { printf '%s\n' "$out" >&2; fail "no line with: $1"; }; }
expect "course: 8 min 30 s (510.0 s"
expect "stages: build 10.5 s, probe 0.5 s, chapters 489.0 s, probe 0.5 s, figures 5.5 s, book 4.0 s"
expect "02-ring                      61.1         29.5        1.82"
expect "07-ranks                     46.3        415.1        0.99  (rank 0: a process per rank)"
expect "222.7 GFLOP/s before the chapters, ? after"
grep -q "^total	510.0" "$dir/course-time.tsv" || fail "course-time.tsv has no total of 510.0 s"

rm "$dir/course-stages.tsv"
err=$(sh bench/course-time.sh "$dir" 2>&1 >/dev/null)
[ $? -eq 66 ] || fail "a course that never ran did not exit 66"
printf '%s\n' "$err" | grep -q "run make course" || fail "no hint to run make course: $err"
echo "course-time: 7 checks pass"
