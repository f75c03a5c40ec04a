# plots/07-scaling.gp: chapter 7, the modelled speed-up of one step of 32
# windows on P nodes (compute at a stated node speed, then a ring all-reduce
# of the gradients at 10 and 100 Gbit/s, not overlapped), against the ideal
# speed-up P (data: scaling.tsv, from cell "scaling"). Modelled, not measured.
load 'plots/style.gp'
set xlabel 'nodes P'
set ylabel 'speed-up over one node (modelled)'
set logscale xy 2
set key left top
plot data('scaling.tsv') using 1:1 with lines ls 9 dashtype 2 title 'ideal: P', \
     ''                  using 1:3 with linespoints ls 1 title '100 Gbit/s', \
     ''                  using 1:2 with linespoints ls 2 title '10 Gbit/s'
