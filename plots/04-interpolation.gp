# plots/04-interpolation.gp - chapter 4: decoded straight line between two test images' mean codes, the images at the ends.
# Data: interpolation.tsv, a pixel matrix (28 x 28 images, 1-pixel grey separators),
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
plot data('interpolation.tsv') matrix with image
