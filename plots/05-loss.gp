# plots/05-loss.gp: chapter 5, the GPT's train and validation loss during
# pre-training, with the bigram model's and the uniform model's validation
# loss as flat lines (data: loss.tsv, from cell "train").
load 'plots/style.gp'
set xlabel 'training step'
set ylabel 'loss (nats per byte)'
set key right center
set yrange [0:*]
plot data('loss.tsv') using 1:2 with linespoints ls 1 title 'train', \
     ''               using 1:3 with linespoints ls 2 title 'validation', \
     ''               using 1:4 with lines ls 3 dashtype 2 title 'bigram (validation)', \
     ''               using 1:5 with lines ls 9 title 'uniform, ln V'
