# plots/05-attention.gp: chapter 5, the trained GPT's attention weights on a
# prompt, one heat map per head of layer 0 (rows: the query byte, columns:
# the key byte it reads; above the diagonal is masked to 0).
# Data: attention.tsv (one block per head: query, key, weight) and
# attention-bytes.tsv (position, byte) for the tic labels.
load 'plots/style.gp'
stats data('attention.tsv') using 1 nooutput
n = int(STATS_max) + 1      # bytes in the prompt
H = int(STATS_blocks)       # one block per head
if (fmt eq 'svg') { set terminal svg size 900,900 fixed enhanced font 'DejaVu Sans,10' background rgb 'white' } \
else { set terminal pngcairo size 1600,1600 enhanced font 'DejaVu Sans,14' background rgb 'white' }
set output outfile
set palette defined (0 '#ffffff', 0.2 '#9ecae1', 1 '#08306b')
set cbrange [0:1]
set xrange [-0.5:n-0.5]
set yrange [n-0.5:-0.5]
set size ratio -1
set xtics scale 0 font ',9'
set ytics scale 0 font ',9'
set grid noxtics noytics
set border 15
unset key
unset colorbox
rows = (H > 2) ? 2 : 1
cols = (H + rows - 1) / rows
set multiplot layout rows, cols title 'attention weights of layer 0 (rows: query byte, columns: key byte)'
do for [h = 0:H-1] {
    set title sprintf('head %d', h)
    plot data('attention.tsv') index h using 2:1:3 with image, \
         data('attention-bytes.tsv') using 1:(NaN):xtic(2) with points, \
         ''                          using (NaN):1:ytic(2) with points
}
unset multiplot
