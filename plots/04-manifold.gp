# plots/04-manifold.gp - chapter 4: the decoder's view of the 2-D latent
# space: images decoded from a 15 x 15 grid of codes z over [-3, 3]^2.
# Data: manifold.tsv, a pixel matrix (28 x 28 images, 1-pixel separators),
# top row z_2 = 3, left column z_1 = -3; drawn dark on white.
load 'plots/style.gp'
G = 15
cell = 29.0
# image i (0..G-1) is centred on pixel i*cell + 13.5; its code is -3 + 6 i / (G-1)
set xtics ('-3' 13.5, '-1.5' (G-1)/4.0*cell+13.5, '0' (G-1)/2.0*cell+13.5, '1.5' 3*(G-1)/4.0*cell+13.5, '3' (G-1)*cell+13.5) nomirror out
set ytics ('3' 13.5, '1.5' (G-1)/4.0*cell+13.5, '0' (G-1)/2.0*cell+13.5, '-1.5' 3*(G-1)/4.0*cell+13.5, '-3' (G-1)*cell+13.5) nomirror out
set xlabel 'z_1'
set ylabel 'z_2'
unset key
unset colorbox
unset grid
set border 3
set offsets 0, 0, 0, 0
set size ratio -1
set palette gray negative
set cbrange [0:1]
set yrange [*:*] reverse
set autoscale xfix
set autoscale yfix
plot data('manifold.tsv') matrix with image
