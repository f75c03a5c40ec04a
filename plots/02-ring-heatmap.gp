# 02-ring-heatmap: sigmoid(D(x)) over the plane after training, G's samples on top.
# Data: ring-heat-ns.tsv / ring-heat-sat.tsv (x, y, sigmoid D; gnuplot grid),
# ring-real.tsv (x, y: real points, black), ring-samples.tsv (variant, snapshot, step, x, y), from chapter 2, cell "train".
load 'plots/style.gp'
set multiplot layout 1,2 margins 0.07,0.84,0.14,0.92 spacing 0.07,0
set size ratio -1
set xrange [-3:3]
set yrange [-3:3]
set cbrange [0:1]
set palette defined (0 '#f7fbff', 0.5 '#9ecae1', 1 '#08306b')
set xlabel 'x_1'
unset key
set offsets 0,0,0,0
unset grid
set title 'non-saturating'
set ylabel 'x_2'
unset colorbox
plot data('ring-heat-ns.tsv') using 1:2:3 with image, \
     data('ring-real.tsv') using 1:2 with points pointtype 7 pointsize 0.25 linecolor rgb '#000000', \
     data('ring-samples.tsv') using ($1==0 && $2==3 ? $4 : NaN):5 with points pointtype 7 pointsize 0.3 linecolor rgb '#D55E00'
set title 'saturating'
unset ylabel
set colorbox default
set cblabel 'σ(D(x))  (1 = "real")'
plot data('ring-heat-sat.tsv') using 1:2:3 with image, \
     data('ring-real.tsv') using 1:2 with points pointtype 7 pointsize 0.25 linecolor rgb '#000000', \
     data('ring-samples.tsv') using ($1==1 && $2==3 ? $4 : NaN):5 with points pointtype 7 pointsize 0.3 linecolor rgb '#D55E00'
unset multiplot
