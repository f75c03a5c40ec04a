#!/bin/sh
# course-time.sh BUILD [MPI_NUMS] - what `make course` took, stage by stage
# and chapter by chapter: printed at its end, written to BUILD/course-time.tsv.
#
# Reads BUILD/course-stages.tsv (a stage's name and the time it ended, in
# seconds since the epoch; the first line, "start", when the course began),
# each chapter's BUILD/run/NN-name/timing.tsv (its wall time, peak memory and
# the cores it kept busy, written by lib/notebook.c) and the FMA peak probed
# before and after the chapters (BUILD/course-peak-{before,after}.txt, from
# bench/peak.c). MPI_NUMS: the chapters that run as one process per rank;
# their timing.tsv is rank 0's.
# The peak says how fast this machine's cores were while the chapters ran: a
# virtual machine's host can slow them by 10 % or more from one hour to the
# next, and every time here moves with it. The course's budget is ten
# minutes on a 2-core machine. Everything here is a timing: it never enters a
# chapter's record.
set -eu
build=${1:?usage: course-time.sh BUILD [MPI_NUMS]}
mpi=${2:-}
stages=$build/course-stages.tsv
out=$build/course-time.tsv
[ -r "$stages" ] || { echo "course-time.sh: $stages is missing: run make course" >&2; exit 66; }

peak() { # the 1-thread peak in a probe's output, or "?"
    awk '/peak 1 thread/ { print $4; found = 1 } END { if (!found) print "?" }' "$1" 2>/dev/null || echo "?"
}

{
    printf 'what\twall s\tpeak RSS MB\tcores busy\n'
    awk -F'\t' 'NR == 1 { t = $2; next } { printf "stage %s\t%.1f\t\t\n", $1, $2 - t; t = $2 }' "$stages"
    for f in "$build"/run/[0-9][0-9]-*/timing.tsv; do
        [ -r "$f" ] || continue
        name=$(basename "$(dirname "$f")")
        awk -F'\t' -v name="$name" '
            $1 == "wall time of the run" { w = $2 }
            $1 == "peak memory (max RSS)" { m = $2 }
            $1 ~ /^cores it kept busy/ { c = $2 }
            END { printf "chapter %s\t%.1f\t%.1f\t%.2f\n", name, w, m, c }' "$f"
    done
    awk -F'\t' 'NR == 1 { t0 = $2 } { t = $2 } END { printf "total\t%.1f\t\t\n", t - t0 }' "$stages"
} > "$out"

before=$(peak "$build/course-peak-before.txt")
after=$(peak "$build/course-peak-after.txt")
awk -F'\t' -v mpi=" $mpi " -v before="$before" -v after="$after" '
    NR == 1 { next }
    $1 == "total" { total = $2 }
    $1 ~ /^stage / { sub(/^stage /, "", $1); stage = stage sep $1 " " sprintf("%.1f s", $2); sep = ", " }
    $1 ~ /^chapter / { sub(/^chapter /, "", $1); n++; ch[n] = $1; w[n] = $2; m[n] = $3; c[n] = $4 }
    END {
        printf "course: %d min %02d s (%.1f s; the budget: 10 min on 2 cores)\n", total / 60, total % 60, total
        printf "  stages: %s\n", stage
        printf "  %-24s %8s %12s %11s\n", "chapter", "wall s", "peak RSS MB", "cores busy"
        for (i = 1; i <= n; i++)
            printf "  %-24s %8.1f %12.1f %11s%s\n", ch[i], w[i], m[i],
                   w[i] < 1 ? "-" : sprintf("%.2f", c[i]), # CPU time counts in 10 ms ticks
                   index(mpi, " " substr(ch[i], 1, 2) " ") ? "  (rank 0: a process per rank)" : ""
        printf "  FMA peak, 1 core: %s GFLOP/s before the chapters, %s after (bench/peak.c)\n", before, after
    }' "$out"
echo "  (also in $out)"
