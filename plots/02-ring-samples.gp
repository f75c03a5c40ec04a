# 02-ring-samples: real points and G's samples at four steps, both losses, same seed.
# Data: ring-real.tsv (x, y), ring-samples.tsv (variant, snapshot, step, x, y),
# ring-steps.tsv (snapshot, step), from chapter 2, cell "train".
load 'plots/style.gp'
array steps[4]
do for [s=0:3] {
  stats data('ring-steps.tsv') using ($1==s ? $2 : NaN) nooutput
  steps[s+1] = int(STATS_max)
}
set multiplot layout 2,4 margins 0.08,0.99,0.09,0.93 spacing 0.015,0.08
set size ratio -1
set xrange [-2.7:2.7]
set yrange [-2.7:2.7]
set xtics 2 format '%g' font ',10'
set ytics 2 format '%g' font ',10'
set grid
unset key
set offsets 0,0,0,0
names = 'non-saturating saturating'
do for [v=0:1] {
  do for [s=0:3] {
    set title sprintf('step %d', steps[s+1]) font ',12' offset 0,-0.6
    if (s == 0) { set ylabel word(names, v+1) font ',12' offset 1.5,0 } else { unset ylabel }
    if (s == 0) { set format y '%g' } else { set format y '' }
    if (v == 1) { set format x '%g' } else { set format x '' }
    plot data('ring-real.tsv') using 1:2 with points pointtype 7 pointsize 0.25 linecolor rgb '#bbbbbb', \
         data('ring-samples.tsv') using ($1==v && $2==s ? $4 : NaN):5 with points pointtype 7 pointsize 0.25 linecolor rgb '#0072B2'
  }
}
unset multiplot
