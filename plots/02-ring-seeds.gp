# 02-ring-seeds: G's samples after training in five runs (five seeds), three variants
# (non-saturating, saturating, PacGAN with an annealed learning rate).
# Data: ring-seeds.tsv (variant, run, x, y), ring-real.tsv (x, y),
# from chapter 2, cell "pacgan".
load 'plots/style.gp'
set multiplot layout 3,5 margins 0.1,0.9,0.02,0.93 spacing 0.008,0.012
set size ratio -1
set xrange [-2.7:2.7]
set yrange [-2.7:2.7]
unset xtics
unset ytics
unset grid
unset key
set offsets 0,0,0,0
set border 15 linecolor rgb '#aaaaaa'
array names[3] = ['non-saturating', 'saturating', 'PacGAN, annealed']
do for [v=0:2] {
  do for [s=0:4] {
    if (v == 0) {
      set title sprintf('run %d', s) font ',11' offset 0,-0.4
    } else { unset title }
    if (s == 0) { set ylabel names[v+1] font ',10' offset -0.5,0 } else { unset ylabel }
    plot data('ring-real.tsv') using 1:2 with points pointtype 7 pointsize 0.2 linecolor rgb '#cccccc', \
         data('ring-seeds.tsv') using ($1==v && $2==s ? $3 : NaN):4 with points pointtype 7 pointsize 0.3 linecolor rgb "#0072B2"
  }
}
unset multiplot
