# plots/07-loss.gp: chapter 7, the GPT's train and validation loss during
# data-parallel training on P ranks (data: loss.tsv, from cell "train").
load 'plots/style.gp'
set xlabel 'training step'
set ylabel 'loss (nats per byte)'
set key right top
set yrange [0:*]
plot data('loss.tsv') using 1:2 with linespoints ls 1 title 'train', \
     ''               using 1:3 with linespoints ls 2 title 'validation'
