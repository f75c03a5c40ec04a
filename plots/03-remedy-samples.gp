# plots/03-remedy-samples.gp - chapter 3: the fixed noise batch of section 4
# at the remedy's last iteration, drawn by the plain G (left) and by G with
# batch norm (right). Data: remedy-samples.tsv, two matrix blocks (index 0:
# plain, index 1: batch norm), 242 x 242 values in [-1, 1].
load 'plots/style.gp'
unset border; unset tics; unset grid; unset key; unset colorbox
unset xlabel; unset ylabel
set palette gray
set cbrange [-1:1]
set xrange [-0.5:241.5]
set yrange [241.5:-0.5]
set size ratio -1
set multiplot layout 1, 2 margins 0.01, 0.99, 0.02, 0.92 spacing 0.03, 0
set title 'plain G'
plot data('remedy-samples.tsv') index 0 matrix with image notitle
set title 'G with batch norm'
plot data('remedy-samples.tsv') index 1 matrix with image notitle
unset multiplot
