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
fail=0; drawn=0

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
        if "$GNUPLOT" -e "datadir='$run'; outfile='$out'; fmt='$fmt'" "$gp"; then drawn=$((drawn + 1))
        else echo "plots: gnuplot failed on $gp (datadir $run, $fmt)" >&2; rm -f "$out"; fail=1; fi
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
        if [ "$fmt" = png ]; then extra=-Gdpi=144; else extra=; fi
        if "$DOT" -T"$fmt" $extra -o "$out" "$src"; then drawn=$((drawn + 1))
        else echo "plots: dot failed on $src ($fmt)" >&2; rm -f "$out"; fail=1; fi
    done
done
echo "plots: $drawn file(s) drawn into $FIG_DIR"
exit $fail
