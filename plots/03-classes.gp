# plots/03-classes.gp - chapter 3: the judge's class histogram (share of the
# images, %) of real test images, of the plain G's samples at the remedy's
# iteration count and at the end of its run, and of G with batch norm.
# Data: classes.tsv (class, name, real_test, plain_same_iteration,
# batch_norm, plain_end), from chapter 3, cell "remedy".
load 'plots/style.gp'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel 'share of the images (%)'
set yrange [0:*]
set xtics rotate by -30 scale 0
set grid noxtics ytics
set key top left
plot data('classes.tsv') using 3:xtic(2) ls 7 title 'real test images', \
     ''                  using 4 ls 1 title 'plain G, same iteration', \
     ''                  using 5 ls 2 title 'G with batch norm', \
     ''                  using 6 ls 6 title 'plain G, end of run', \
     10 with lines ls 9 title 'uniform (10 %)'
