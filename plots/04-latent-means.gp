# plots/04-latent-means.gp - chapter 4: the mean codes mu(x) of the test set
# in the 2-D latent space, one colour per class.
# Data: latent2d.tsv (mu1, mu2, label 0..9). The names are lib/data.c's
# FASHION_CLASSES, in label order.
load 'plots/style.gp'
array name[10] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', \
                  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
# Okabe-Ito, then two more that stay apart from them
array colour[10] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', \
                    '#56B4E9', '#000000', '#F0E442', '#999999', '#882255']
set size ratio -1
set xlabel 'z_1 (mean code)'
set ylabel 'z_2 (mean code)'
set key outside right center samplen 0.8 spacing 1.1
set grid
plot for [k=1:10] data('latent2d.tsv') using ($3 == k-1 ? $1 : NaN):2 with points \
     pointtype 7 pointsize 0.25 linecolor rgb colour[k] title name[k]
