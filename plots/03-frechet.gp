# plots/03-frechet.gp - chapter 3: the Fréchet judge distance of G's samples
# to the test images over training, plain G and G with batch norm (the
# remedy, which trains for part of the run), on a log scale; the dashed line
# is the floor (real training images against the test images).
# Data: frechet-curve.tsv (iteration, plain, batch_norm (NaN past its run),
# real_floor), from chapter 3, cell "remedy".
load 'plots/style.gp'
set xlabel 'iteration (one D step + one G step, batch 64)'
set ylabel 'Fréchet judge distance (log scale)'
set logscale y
set format y '%g'
set key top right
plot data('frechet-curve.tsv') using 1:2 with linespoints ls 1 title 'plain G', \
     ''                        using 1:3 with linespoints ls 2 title 'G with batch norm', \
     ''                        using 1:4 with lines ls 9 title 'real images (floor)'
