# plots/03-losses.gp - chapter 3: L_D and L_G over training, in nats.
# Data: train-log.tsv (step, L_D, L_G, D(x), D(G(z))), each a mean over a
# window of iterations. Reference lines: 2 log 2 (L_D of a D that guesses)
# and log 2 (L_G when D(G(z)) = 1/2).
load 'plots/style.gp'
set xlabel 'iteration (one D step + one G step, batch 64)'
set ylabel 'loss (nats)'
set key bottom right
set yrange [0:*]
plot data('train-log.tsv') using 1:2 with lines ls 1 title 'L_D (discriminator)', \
     ''                    using 1:3 with lines ls 2 title 'L_G (generator, non-saturating)', \
     2 * log(2) with lines ls 9 title '2 log 2, log 2', \
     log(2) with lines ls 9 notitle
