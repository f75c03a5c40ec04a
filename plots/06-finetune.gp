# plots/06-finetune.gp: chapter 6, validation loss on songs-poems while
# fine-tuning the pre-trained GPT and while training the same model from
# scratch for the same number of steps; dashed, the fine-tuned model's loss
# on chapter 5's validation split (what it forgets).
# Data: finetune.tsv, block 0 the fine-tuning run (step, finetuned_val, -,
# finetuned_old_val), block 1 the from-scratch run (step, -, scratch_val, -).
load 'plots/style.gp'
set xlabel 'fine-tuning step'
set ylabel 'validation loss (nats per byte)'
set key top right
set yrange [0:*]
plot data('finetune.tsv') index 0 using 1:2 with linespoints ls 1 title 'fine-tuned: songs-poems', \
     ''                   index 1 using 1:3 with linespoints ls 2 title 'from scratch: songs-poems', \
     ''                   index 0 using 1:4 with lines ls 3 dashtype 2 title "fine-tuned: chapter 5's corpus"
