# plots/01-fd-error.gp - chapter 1: error of the central difference against h.
# Data: fd-error.tsv (h, float error, double error, float error with the
# subtraction fused into an FMA). Look for the V: slope 2 on the right
# (truncation), slope -1 on the left (round-off); left of it, float as
# written goes flat at |f'(x)| (x + h == x), the fused float keeps rising.
load 'plots/style.gp'
set logscale xy
set format x '10^{%L}'
set format y '10^{%L}'
set xlabel 'step h'
set ylabel '|numeric - exact derivative|'
set key top left
set xrange [*:*] reverse
plot data('fd-error.tsv') using 1:2 with linespoints ls 2 title 'float', \
     ''                   using 1:4 with linespoints ls 3 dashtype 2 title 'float, fused (FMA)', \
     ''                   using 1:3 with linespoints ls 1 title 'double'
