# 02-ring-dprob: mean D(x) on real points and mean D(G(z)) on samples during training.
# Data: ring-curves.tsv (step, ns_LD, ns_LG, ns_Dx, ns_DGz, sat_LD, sat_LG, sat_Dx, sat_DGz),
# from chapter 2, cell "train".
load 'plots/style.gp'
set multiplot layout 1,2 margins 0.11,0.98,0.16,0.9 spacing 0.08,0
set xlabel 'step (thousands)'
set ylabel 'mean σ(D)  (probability "real")'
set yrange [0:1]
set key top right
set title 'non-saturating L_G'
plot data('ring-curves.tsv') using ($1/1000):4 with lines ls 1 title 'D(x), real', \
     ''                      using ($1/1000):5 with lines ls 2 title 'D(G(z)), fake', \
     0.5 with lines ls 9 title '1/2'
set title 'saturating L_G'
unset ylabel
plot data('ring-curves.tsv') using ($1/1000):8 with lines ls 1 title 'D(x), real', \
     ''                      using ($1/1000):9 with lines ls 2 title 'D(G(z)), fake', \
     0.5 with lines ls 9 title '1/2'
unset multiplot
