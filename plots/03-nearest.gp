# plots/03-nearest.gp - chapter 3: memorisation. Rows 1 and 3: the 8 samples
# of the plain G (end of run) and of G with batch norm that lie nearest to a
# training image; rows 2 and 4: those training images. Data: nearest.tsv,
# one matrix block of 4 x 8 tiles (122 x 242 values in [-1, 1]).
load 'plots/style.gp'
unset border; unset tics; unset grid; unset key; unset colorbox
unset xlabel; unset ylabel
set palette gray
set cbrange [-1:1]
set xrange [-0.5:241.5]
set yrange [121.5:-0.5]
set size ratio -1
set lmargin at screen 0.2; set rmargin at screen 0.98
set label 1 'plain G' at screen 0.02, screen 0.745 left
set label 2 'nearest training' at screen 0.02, screen 0.59 left
set label 3 'with batch norm' at screen 0.02, screen 0.435 left
set label 4 'nearest training' at screen 0.02, screen 0.28 left
plot data('nearest.tsv') matrix with image notitle
