# 02-ring-losses: L_D and L_G during training, both losses.
# Data: ring-curves.tsv (step, ns_LD, ns_LG, ns_Dx, ns_DGz, sat_LD, sat_LG, sat_Dx, sat_DGz),
# from chapter 2, cell "train".
load 'plots/style.gp'
set multiplot layout 1,2 margins 0.11,0.98,0.16,0.9 spacing 0.08,0
set xlabel 'step (thousands)'
set ylabel 'loss (nats)'
set yrange [-1.2:1.8]
set key bottom right
set title 'non-saturating L_G'
plot data('ring-curves.tsv') using ($1/1000):2 with lines ls 1 title 'L_D', \
     ''                      using ($1/1000):3 with lines ls 2 title 'L_G', \
     log(4) with lines ls 9 title 'log 4, log 2', log(2) with lines ls 9 notitle
set title 'saturating L_G'
set key center right
unset ylabel
plot data('ring-curves.tsv') using ($1/1000):6 with lines ls 1 title 'L_D', \
     ''                      using ($1/1000):7 with lines ls 2 title 'L_G', \
     log(4) with lines ls 9 title 'log 4, −log 2', -log(2) with lines ls 9 notitle
unset multiplot
