#!/bin/sh
# plots/plots.sh: every figure of the course; called by `make plots` (plots/plots.mk).
#
#   - plots/NN-name.gp for which a run directory $RUN_DIR/NN-*/ exists
#     -> $FIG_DIR/NN-name.svg (the book) and .png (a quick look), with
#     gnuplot -e "datadir='...'; outfile='...'; fmt='svg|png'" (see style.gp);
#   - each $RUN_DIR/*/*.dot (graphs the chapters dumped from the tape)
#     -> <basename>.svg and .png, by Graphviz;
#   - the article's three flowcharts, plots/{gan,vae,gpt}.dot.
# A figure is redrawn only when its script, style.gp or its run data is newer
# than it. A gnuplot or dot failure names the file and fails.
set -u
: "${PLOTS_DIR:=plots}" "${RUN_DIR:=build/run}" "${FIG_DIR:=build/fig}"
: "${GNUPLOT:=gnuplot}" "${DOT:=dot}" "${FLOWCHARTS:=gan vae gpt}"

command -v "$GNUPLOT" >/dev/null || { echo "plots: gnuplot is missing: apt-get install gnuplot-nox" >&2; exit 1; }
command -v "$DOT" >/dev/null || { echo "plots: dot is missing: apt-get install graphviz" >&2; exit 1; }
mkdir -p "$FIG_DIR"

# The loops below only list the figures to draw, a line each in $todo;
# then $JOBS lanes (the number of cores unless make passes JOBS) draw them,
# lane k every JOBS-th line from line k, each figure its own gnuplot or dot
# process. Each outcome is a line in one of two files, counted at the end.
: "${JOBS:=$(nproc 2>/dev/null || echo 2)}"
todo=$FIG_DIR/.todo; drawn_log=$FIG_DIR/.drawn; failed_log=$FIG_DIR/.failed
: > "$todo"; : > "$drawn_log"; : > "$failed_log"
tab=$(printf '\t')
todo_add() { # list one figure: its drawing function and arguments, tab-separated
    (IFS=$tab; echo "$*") >> "$todo"
}
draw_gp() { # gp run out fmt
    if "$GNUPLOT" -e "datadir='$2'; outfile='$3'; fmt='$4'" "$1"; then echo "$3" >> "$drawn_log"
    else echo "plots: gnuplot failed on $1 (datadir $2, $4)" >&2; rm -f "$3"; echo "$3" >> "$failed_log"; fi
}
draw_dot() { # src out fmt
    if [ "$3" = png ]; then extra=-Gdpi=144; else extra=; fi
    if "$DOT" -T"$3" $extra -o "$2" "$1"; then echo "$2" >> "$drawn_log"
    else echo "plots: dot failed on $1 ($3)" >&2; rm -f "$2"; echo "$2" >> "$failed_log"; fi
}

# stale OUT PATHS...: OUT is missing or older than one of PATHS
stale() {
    out=$1; shift
    [ ! -f "$out" ] || [ -n "$(find "$@" -newer "$out" -print 2>/dev/null | head -n 1)" ]
}

for gp in "$PLOTS_DIR"/[0-9][0-9]-*.gp; do
    [ -f "$gp" ] || continue
    name=$(basename "$gp" .gp); nn=${name%%-*}
    run=$(ls -d "$RUN_DIR/$nn"-*/ 2>/dev/null | head -n 1); run=${run%/}
    if [ -z "$run" ]; then echo "plots: $name waits for its run ($RUN_DIR/$nn-*/ does not exist yet)"; continue; fi
    for fmt in svg png; do
        out=$FIG_DIR/$name.$fmt
        stale "$out" "$gp" "$PLOTS_DIR/style.gp" "$run" || continue
        todo_add draw_gp "$gp" "$run" "$out" "$fmt"
    done
done

flowcharts=""
for f in $FLOWCHARTS; do flowcharts="$flowcharts $PLOTS_DIR/$f.dot"; done
for src in "$RUN_DIR"/*/*.dot $flowcharts; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .dot)
    for fmt in svg png; do
        out=$FIG_DIR/$name.$fmt
        stale "$out" "$src" || continue
        todo_add draw_dot "$src" "$out" "$fmt"
    done
done
lane=0
while [ "$lane" -lt "$JOBS" ]; do
    awk -v k="$lane" -v n="$JOBS" '(NR - 1) % n == k' "$todo" | while IFS=$tab read -r fn a b c d; do
        "$fn" "$a" "$b" "$c" "$d" < /dev/null
    done &
    lane=$((lane + 1))
done
wait
rm -f "$todo"
drawn=$(wc -l < "$drawn_log"); failed=$(wc -l < "$failed_log")
rm -f "$drawn_log" "$failed_log"
echo "plots: $((drawn)) file(s) drawn into $FIG_DIR"
[ "$failed" -eq 0 ]
