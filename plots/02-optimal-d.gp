# 02-optimal-d: D* = p_data / (p_data + p_g) on a 1-D example, and a trained D.
# Data: optimal-d.tsv (x, p_data, p_g, D*, trained D), from chapter 2, cell "optimal_d".
load 'plots/style.gp'
set xrange [-4:4]
set yrange [0:1.05]
set y2range [0:1.05]
set xlabel 'x'
set ylabel 'D(x)   (probability "real")'
set y2label 'density'
set y2tics nomirror
set border 11 linecolor rgb '#555555' linewidth 1
set key top left
plot data('optimal-d.tsv') using 1:2 axes x1y2 with filledcurves y1=0 fillcolor rgb '#0072B2' fillstyle transparent solid 0.15 noborder title 'p_{data}', \
     ''                    using 1:3 axes x1y2 with filledcurves y1=0 fillcolor rgb '#D55E00' fillstyle transparent solid 0.15 noborder title 'p_g', \
     ''                    using 1:4 with lines ls 7 title 'D* = p_{data} / (p_{data} + p_g)', \
     ''                    using 1:5 with lines ls 3 dashtype 2 title 'trained D'
