#!/bin/sh
# seeds.sh - make the fuzzers' seed corpora from real files (never committed).
#
# Usage: sh fuzz/seeds.sh OUTDIR SEED_CHECKPOINT
# Writes OUTDIR/<harness>/<name> for the harnesses idx, corpus, checkpoint
# and weave (the input formats are in each fuzz/fuzz_<harness>.c):
#   idx         the first 8 images and labels of Fashion-MNIST's t10k split,
#               plain and gzip-compressed, and a 3-image set of 2 x 4
#               pixels (a mode byte in front: 0 image file, 1 label file,
#               +2 for the harness to gzip it)
#   corpus      the first KB of three fortunes files, as pieces
#   checkpoint  files saved by SEED_CHECKPOINT (fuzz/seed_checkpoint.c),
#               with mode 0 (checksum as is) and 1 (the harness fixes it)
#   weave       the course's own chapter sources with a run's files
# Missing data packages only mean fewer seeds. The seeds are a few KB each.
set -eu
out=$1 ckpt=$2
fashion=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
fortunes=${FORTUNES_DIR:-/usr/share/games/fortunes}
sep='
--8<--
'
rm -rf "$out"
mkdir -p "$out/idx" "$out/corpus" "$out/checkpoint" "$out/weave"

# ---- idx: mode byte, then the file
be32() { printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))"; \
         printf "\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"; }
idx_images() { be32 2051; be32 "$1"; be32 "$2"; be32 "$3"; }   # magic 0x803, n, rows, cols
idx_labels() { be32 2049; be32 "$1"; }                          # magic 0x801, n
if [ -r "$fashion/t10k-images-idx3-ubyte.gz" ] && [ -r "$fashion/t10k-labels-idx1-ubyte.gz" ]; then
  { idx_images 8 28 28; gzip -dc "$fashion/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c 6272; } > "$out/idx/img8"
  { idx_labels 8; gzip -dc "$fashion/t10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c 8; } > "$out/idx/lab8"
  for f in img8 lab8; do
    gzip -9 -n -c "$out/idx/$f" > "$out/idx/$f.gz"
  done
fi
{ idx_images 3 2 4; printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030'; } > "$out/idx/img3"
{ idx_labels 3; printf '\000\011\005'; } > "$out/idx/lab3"
for f in "$out"/idx/*; do
  case $f in *lab*) mode=1 ;; *) mode=0 ;; esac
  case $f in *.gz) ;; *) { printf "\00$((mode + 2))"; cat "$f"; } > "$f-gzip-me" ;; esac
  { printf "\00$mode"; cat "$f"; } > "$f.seed" && mv "$f.seed" "$f"
done

# ---- corpus: pieces b, a, c, d separated by the harness's separator
if [ -d "$fortunes" ]; then
  set -- $(ls "$fortunes" | grep -v -e '\.dat$' -e '\.u8$' | head -3)
  for f in "$@"; do head -c 1024 "$fortunes/$f" > "$out/corpus/$f"; done
  if [ $# -ge 3 ]; then
    { head -c 300 "$fortunes/$1"; printf %s "$sep"; head -c 200 "$fortunes/$2"; printf %s "$sep";
      head -c 100 "$fortunes/$3"; } > "$out/corpus/three-files"
  fi
fi
printf 'a fortune\n%%\n' > "$out/corpus/one"

# ---- checkpoint: mode byte, then the file
tmp=$(mktemp -d)
"$ckpt" "$tmp"
for f in "$tmp"/*.ckpt; do
  b=$(basename "$f" .ckpt)
  { printf '\000'; cat "$f"; } > "$out/checkpoint/$b"
  { printf '\001'; cat "$f"; } > "$out/checkpoint/$b-fix"
done
rm -rf "$tmp"

# ---- weave: chapter.c, model.c, cells.list, metrics.tsv, cells/a.txt, cells/a.figs
here=$(dirname "$0")/..
cell='
static void cell_a(void) {
    nb_printf("loss %.3f\n", 0.5);
}
/*md
## After the cell

The loss is {{loss:.3f}}, see ![the figure](fig/x.svg).
*/
'
for c in "$here"/chapters/*/chapter.c; do
  n=$(basename "$(dirname "$c")")
  { head -c 3000 "$c"; printf '\n*/\n%s' "$cell"; printf %s "$sep";
    m=$(ls "$(dirname "$c")"/*.c | grep -v chapter.c | head -1 || true)
    if [ -n "$m" ]; then head -c 1500 "$m"; fi; printf %s "$sep";
    printf '1\ta\tThe first cell\n2\tb\tA cell no source defines\n'; printf %s "$sep";
    printf 'loss\t0.5\tnats\nsteps\t1000\t\n'; printf %s "$sep";
    printf 'loss 0.500\n\033[1mbold\033[0m\r overwritten\n\tTab\n'; printf %s "$sep";
    printf 'x\tA caption\n# a comment\n'; } > "$out/weave/$n"
done
echo "seeds: $(ls "$out"/*/* | wc -l) files in $out ($(du -sk "$out" | cut -f1) KB)"
