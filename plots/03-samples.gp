# plots/03-samples.gp - chapter 3: G's samples for one fixed batch of 64 noise
# vectors at six points of training. Data: samples.tsv (6 matrix blocks, gnuplot
# index 0..5, 242 x 242 values in [-1, 1]); samples-steps.tsv (block, step).
# The same tile position is the same noise vector in every panel.
load 'plots/style.gp'
unset border; unset tics; unset grid; unset key; unset colorbox
unset xlabel; unset ylabel
set palette gray
set cbrange [-1:1]
# the steps first: stats honours the ranges set below
array step[6]
do for [k = 0:5] {
    stats data('samples-steps.tsv') every ::k::k using 2 nooutput
    step[k + 1] = int(STATS_max)
}
set cbrange [-1:1]
set xrange [-0.5:241.5]
set yrange [241.5:-0.5]
set size ratio -1
set multiplot layout 2, 3 margins 0.01, 0.99, 0.02, 0.93 spacing 0.01, 0.07
do for [k = 0:5] {
    set title sprintf('step %d', step[k + 1]) offset 0, -0.6
    plot data('samples.tsv') index k matrix with image notitle
}
unset multiplot
