# plots/04-elbo-curve.gp - chapter 4: train and test -ELBO per epoch (20-D latent).
# Data: vae20-epochs.tsv (epoch, train -ELBO, recon, KL, test -ELBO, recon, KL).
# Left: the -ELBO and its reconstruction part; right: the KL part (a
# different scale). Look for the KL rising while the reconstruction falls.
load 'plots/style.gp'
set multiplot layout 1,2 margins 0.11,0.98,0.14,0.9 spacing 0.13
set xlabel 'epoch'
set ylabel 'nats per image'
set title '-ELBO and its reconstruction part'
set key top right
set xtics 1
plot data('vae20-epochs.tsv') using 1:2 with linespoints ls 1 dashtype 2 title 'train -ELBO', \
     ''                       using 1:5 with linespoints ls 1 title 'test -ELBO', \
     ''                       using 1:3 with linespoints ls 2 dashtype 2 title 'train recon', \
     ''                       using 1:6 with linespoints ls 2 title 'test recon'
set title 'KL(q(z|x) || p(z))'
set ylabel 'nats per image'
set key bottom right
plot data('vae20-epochs.tsv') using 1:4 with linespoints ls 3 dashtype 2 title 'train KL', \
     ''                       using 1:7 with linespoints ls 3 title 'test KL'
unset multiplot
