# plots/03-real-vs-fake.gp - chapter 3: 64 training images beside 64 samples of
# the trained generator. Data: real-vs-fake.tsv, two matrix blocks (index 0:
# real, index 1: generated), 242 x 242 values in [-1, 1].
load 'plots/style.gp'
unset border; unset tics; unset grid; unset key; unset colorbox
unset xlabel; unset ylabel
set palette gray
set cbrange [-1:1]
set xrange [-0.5:241.5]
set yrange [241.5:-0.5]
set size ratio -1
set multiplot layout 1, 2 margins 0.01, 0.99, 0.02, 0.92 spacing 0.03, 0
set title 'real: training images'
plot data('real-vs-fake.tsv') index 0 matrix with image notitle
set title 'generated: G(z) after training'
plot data('real-vs-fake.tsv') index 1 matrix with image notitle
unset multiplot
