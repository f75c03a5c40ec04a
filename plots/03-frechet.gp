# plots/03-frechet.gp - chapter 3: the Fréchet judge distance of G's samples
# to the test images over training, log scale. Left: the whole run of the
# plain G, and the remedy (G with batch norm) over its part of it; right:
# the remedy's part alone, both models at the same iterations. The dashed
# line is the floor (real training images against the test images).
# Data: frechet-curve.tsv (iteration, plain, batch_norm (NaN past its run),
# real_floor), from chapter 3, cell "remedy".
load 'plots/style.gp'
set multiplot layout 1, 2 spacing 0.1, 0
set logscale y
set format y '%g'
set xlabel 'iteration'
set xtics rotate by -40
set ylabel 'Fréchet judge distance (log scale)'
set title 'the whole run'
set key top right
plot data('frechet-curve.tsv') using 1:2 with linespoints ls 1 title 'plain G', \
     ''                        using 1:3 with linespoints ls 2 title 'G with batch norm', \
     ''                        using 1:4 with lines ls 9 title 'real images (floor)'
set title 'the remedy''s iterations'
unset ylabel
unset key
plot data('frechet-curve.tsv') using (valid(3) ? $1 : NaN):2 with linespoints ls 1, \
     ''                        using (valid(3) ? $1 : NaN):3 with linespoints ls 2, \
     ''                        using (valid(3) ? $1 : NaN):4 with lines ls 9
unset multiplot
