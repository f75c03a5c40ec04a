# plots/03-class-samples.gp - chapter 3: the conditional G's samples at the
# remedy's last iteration, one class per row (T-shirt/top at the top, ankle
# boot at the bottom), the same 8 fixed noise vectors in every row.
# Data: class-samples.tsv, one matrix block of 10 x 8 tiles (302 x 242
# values in [-1, 1]), from chapter 3, cell "condition".
load 'plots/style.gp'
unset border; unset tics; unset grid; unset key; unset colorbox
unset xlabel; unset ylabel
set palette gray
set cbrange [-1:1]
set xrange [-0.5:241.5]
set yrange [301.5:-0.5]
set size ratio -1
set lmargin at screen 0.3
set rmargin at screen 0.7
array classes[10] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", \
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
do for [c = 1:10] {   # row c's tiles are centred 2 + 30 (c - 1) + 14 pixels down
    set label c classes[c] at -4, 2 + 30 * (c - 1) + 14 right font ',11'
}
plot data('class-samples.tsv') matrix with image notitle
