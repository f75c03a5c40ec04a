# 02-grad: gradient of the generator's loss w.r.t. D's logit, against D(G(z)).
# Data: grad.tsv (D(G(z)), saturating dL/dl, non-saturating dL/dl), from chapter 2, cell "gradients".
load 'plots/style.gp'
set logscale x
set xrange [1e-4:1]
set yrange [-1.05:0.05]
set format x '10^{%L}'
set xlabel 'D(G(z))   (G losing ← → G winning)'
set ylabel '∂L_G / ∂l   (nats per unit of logit)'
set key bottom right
set arrow from 1e-4,0 to 1,0 nohead ls 9
plot data('grad.tsv') using 1:3 with lines ls 1 title 'non-saturating: −log D(G(z))', \
     ''               using 1:2 with lines ls 2 title 'saturating: log(1 − D(G(z)))'
