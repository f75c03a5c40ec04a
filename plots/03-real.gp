# plots/03-real.gp - chapter 3: an 8x8 grid of random Fashion-MNIST training images.
# Data: real-grid.tsv, one gnuplot matrix block of 242 x 242 pixel values in
# [-1, 1] (-1 = black background, 1 = white; tiles separated by white lines).
load 'plots/style.gp'
unset border; unset tics; unset grid; unset key; unset colorbox
unset xlabel; unset ylabel
set size ratio -1
set palette gray
set cbrange [-1:1]
set xrange [-0.5:241.5]
set yrange [241.5:-0.5]
set title 'training images (Fashion-MNIST, 28 × 28 pixels each)'
plot data('real-grid.tsv') matrix with image notitle
