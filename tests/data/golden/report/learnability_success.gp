# rnnscope figure 'learnability_success'. Run: gnuplot learnability_success.gp (in this folder) to redraw learnability_success.png and learnability_success.svg
# from learnability_success.dat.
# The share of the seeds of each cell and initialisation that solved the task within 1500 steps, against the sequence length; each line is shifted up or down by up to 0.02 so that equal shares do not hide one another (rates.csv has the exact values).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'learnability_success.dat'
set title 'Share of runs that learned: adding' noenhanced font ',15'
set xlabel 'sequence length T' noenhanced
set ylabel 'share solved (2 seeds)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set logscale x 10
set xtics (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000)
set format x '%g'
set yrange [-0.050000000000000003:1.05]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'learnability_success.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'LSTM', \
     datafile index 1 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 notitle, \
     datafile index 1 using 1:2 with points linecolor rgb '#D55E00' pointtype 5 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#D55E00' linewidth 2 dashtype 2 pointtype 5 pointsize 1.1*point_scale title 'GRU', \
     datafile index 2 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 3 notitle, \
     datafile index 2 using 1:2 with points linecolor rgb '#009E73' pointtype 9 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#009E73' linewidth 2 dashtype 3 pointtype 9 pointsize 1.1*point_scale title 'Elman tanh', \
     datafile index 3 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 4 notitle, \
     datafile index 3 using 1:2 with points linecolor rgb '#CC79A7' pointtype 13 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#CC79A7' linewidth 2 dashtype 4 pointtype 13 pointsize 1.1*point_scale title 'Elman tanh, orthogonal', \
     datafile index 4 using 1:2 with lines linecolor rgb '#E69F00' linewidth 2 dashtype 5 notitle, \
     datafile index 4 using 1:2 with points linecolor rgb '#E69F00' pointtype 6 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#E69F00' linewidth 2 dashtype 5 pointtype 6 pointsize 1.1*point_scale title 'Elman relu, identity', \
     datafile index 5 using 1:2 with lines linecolor rgb '#56B4E9' linewidth 2 dashtype 1 notitle, \
     datafile index 5 using 1:2 with points linecolor rgb '#56B4E9' pointtype 4 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#56B4E9' linewidth 2 dashtype 1 pointtype 4 pointsize 1.1*point_scale title 'residual tanh', \
     datafile index 6 using 1:2 with lines linecolor rgb '#000000' linewidth 2 dashtype 2 notitle, \
     datafile index 6 using 1:2 with points linecolor rgb '#000000' pointtype 8 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#000000' linewidth 2 dashtype 2 pointtype 8 pointsize 1.1*point_scale title 'skip K 10'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'learnability_success.svg'.rnnscope_suffix
replot
unset output
