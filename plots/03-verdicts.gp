# plots/03-verdicts.gp - chapter 3: D's mean verdict sigmoid(D(.)) on real
# images and on G's samples over training. Data: train-log.tsv (step, L_D,
# L_G, D(x), D(G(z))), window means. At the game's equilibrium both are 1/2.
load 'plots/style.gp'
set xlabel 'iteration (one D step + one G step, batch 64)'
set ylabel 'mean D output (probability of "real")'
set yrange [0:1]
set key top right
plot data('train-log.tsv') using 1:4 with lines ls 1 title 'D(x), real images', \
     ''                    using 1:5 with lines ls 2 title 'D(G(z)), generated', \
     0.5 with lines ls 9 title '1/2'
