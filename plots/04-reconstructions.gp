# plots/04-reconstructions.gp - chapter 4: test images (rows 1 and 3) and their reconstructions (rows 2 and 4).
# Data: reconstructions.tsv, a pixel matrix (28 x 28 images, 1-pixel grey separators),
# intensity in [0, 1], drawn dark on white (grey palette, inverted).
load 'plots/style.gp'
unset border
unset tics
unset key
unset colorbox
unset grid
set offsets 0, 0, 0, 0
set size ratio -1
set palette gray negative
set cbrange [0:1]
set yrange [*:*] reverse
set autoscale xfix
set autoscale yfix
plot data('reconstructions.tsv') matrix with image
