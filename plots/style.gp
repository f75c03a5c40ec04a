# plots/style.gp: the one style of every figure in the course.
#
# Every plots/NN-*.gp starts with   load 'plots/style.gp'
# and is run from the repository root as
#   gnuplot -e "datadir='build/run/NN-slug'; outfile='build/fig/NN-name.svg'; fmt='svg'" plots/NN-name.gp
# This file sets the terminal from fmt ('svg' for the book, 'png' for a quick
# look) and outfile, then the shared look: font, colours, line widths, grid,
# legend. The figure script then only says what to plot, with labelled axes
# and units (loss curves in nats), e.g.
#   set xlabel 'step'; set ylabel 'loss (nats)'
#   plot datadir.'/loss.tsv' using 1:2 with lines ls 1 title 'D', \
#        ''                  using 1:3 with lines ls 2 title 'G'
#
# Data files are tab separated, first line a '# header' comment.
# Helpers:  data('loss.tsv') is datadir.'/loss.tsv'.
# Line styles 1..8: Okabe-Ito colours (readable by colour-blind readers and in
# grey); ls 9 is a thin grey reference line; ls 10 is points only.

if (!exists("fmt")) fmt = 'svg'
if (!exists("datadir")) datadir = '.'
if (!exists("outfile")) outfile = 'figure.'.fmt

if (fmt eq 'svg') {
    set terminal svg size 720,450 fixed enhanced font 'DejaVu Sans,13' \
        linewidth 1.6 rounded background rgb 'white'
} else {
    if (fmt eq 'png') {
        set terminal pngcairo size 1200,750 enhanced font 'DejaVu Sans,18' \
            linewidth 2.4 rounded background rgb 'white'
    } else {
        print "plots/style.gp: fmt must be 'svg' or 'png', got '".fmt."'"
        exit status 1
    }
}
set output outfile

data(f) = datadir.'/'.f

set datafile separator "\t"
set datafile commentschars "#"
set encoding utf8

# axes and frame: light border on the left and bottom, grid behind the data
set border 3 linecolor rgb '#555555' linewidth 1
set tics nomirror out textcolor rgb '#333333'
set grid xtics ytics back linecolor rgb '#dddddd' linewidth 1 dashtype 1
set key top right noopaque nobox samplen 2.5 spacing 1.2 textcolor rgb '#222222'
set title font 'DejaVu Sans,14' textcolor rgb '#222222'
set xlabel textcolor rgb '#222222'
set ylabel textcolor rgb '#222222'
set format y '%g'
set format x '%g'
set offsets graph 0, graph 0, graph 0.02, graph 0.02

# line styles (Okabe-Ito palette)
set style line 1 linecolor rgb '#0072B2' linewidth 1.5 pointtype 7 pointsize 0.6
set style line 2 linecolor rgb '#D55E00' linewidth 1.5 pointtype 5 pointsize 0.6
set style line 3 linecolor rgb '#009E73' linewidth 1.5 pointtype 9 pointsize 0.7
set style line 4 linecolor rgb '#CC79A7' linewidth 1.5 pointtype 13 pointsize 0.7
set style line 5 linecolor rgb '#E69F00' linewidth 1.5 pointtype 11 pointsize 0.7
set style line 6 linecolor rgb '#56B4E9' linewidth 1.5 pointtype 3 pointsize 0.7
set style line 7 linecolor rgb '#000000' linewidth 1.5 pointtype 1 pointsize 0.7
set style line 8 linecolor rgb '#F0E442' linewidth 1.5 pointtype 2 pointsize 0.7
set style line 9 linecolor rgb '#999999' linewidth 1 dashtype 2
set style line 10 linecolor rgb '#0072B2' pointtype 7 pointsize 0.35
set style increment user
set linetype 1 linecolor rgb '#0072B2' linewidth 1.5
set linetype 2 linecolor rgb '#D55E00' linewidth 1.5
set linetype 3 linecolor rgb '#009E73' linewidth 1.5
set linetype 4 linecolor rgb '#CC79A7' linewidth 1.5
set linetype 5 linecolor rgb '#E69F00' linewidth 1.5
set linetype 6 linecolor rgb '#56B4E9' linewidth 1.5
set linetype 7 linecolor rgb '#000000' linewidth 1.5
set linetype 8 linecolor rgb '#F0E442' linewidth 1.5
set linetype cycle 8

# images (samples grids, latent maps): grey for pixels, a sequential map otherwise
set palette defined (0 '#ffffff', 1 '#0b3c5d')
set colorbox noborder
