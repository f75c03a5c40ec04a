#!/bin/sh
# small-data.sh - deliberately small data sets for `make sanitize`.
#
# Usage: sh fuzz/small-data.sh OUTDIR
# Valid files, but smaller than a chapter assumes (issue 14 items 1, 2):
#   OUTDIR/fashion-600  train and t10k splits of 600 images (the first 600
#                       of Fashion-MNIST's t10k), for chapters 3 and 4
#   OUTDIR/fashion-1    the same with 1 image
#   OUTDIR/corpus-tiny  a 300-byte corpus: songs-poems (which chapter 6
#                       fine-tunes on) and one other file, for 5 and 6
# A chapter given one of them (--data DIR) must stop with a clear data error
# (exit 65: how much it needs, how much it got), never a sanitizer report.
set -eu
out=$1
fashion=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
fortunes=${FORTUNES_DIR:-/usr/share/games/fortunes}
be32() { printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))"; \
         printf "\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"; }
for n in 600 1; do
  d=$out/fashion-$n
  mkdir -p "$d"
  for split in train t10k; do
    { be32 2051; be32 $n; be32 28; be32 28
      gzip -dc "$fashion/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784)); } |
      gzip -n > "$d/$split-images-idx3-ubyte.gz"
    { be32 2049; be32 $n; gzip -dc "$fashion/t10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c $n; } |
      gzip -n > "$d/$split-labels-idx1-ubyte.gz"
  done
done
d=$out/corpus-tiny
mkdir -p "$d"
head -c 150 "$fortunes/songs-poems" > "$d/songs-poems"
head -c 150 "$fortunes/computers" > "$d/computers"
echo "small data sets in $out: fashion-600, fashion-1, corpus-tiny"
