# plots/03-remedies-frechet.gp - chapter 3: the Fréchet judge distance of
# the three generators over the remedies' iterations, log scale: the plain
# G, G with batch norm (section 9) and the conditional G (section 10). The
# dashed line is the floor (real training images against the test images).
# Data: remedies-curve.tsv (iteration, plain, batch_norm, conditional,
# real_floor), from chapter 3, cell "condition".
load 'plots/style.gp'
set logscale y
set yrange [0.5:*]   # the floor is near 1: no decades below it
set format y '%g'
set xlabel 'iteration'
set ylabel 'Fréchet judge distance (log scale)'
set key top right
plot data('remedies-curve.tsv') using 1:2 with linespoints ls 1 title 'plain G', \
     ''                         using 1:3 with linespoints ls 2 title 'G with batch norm', \
     ''                         using 1:4 with linespoints ls 3 title 'conditional G', \
     ''                         using 1:5 with lines ls 9 title 'real images (floor)'
