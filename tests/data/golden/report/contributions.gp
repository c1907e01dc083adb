# rnnscope figure 'contributions'. Run: gnuplot contributions.gp (in this folder) to redraw contributions.png and contributions.svg
# from contributions.dat.
# How much of the BPTT gradient ∂L/∂W_hh comes from terms linking steps t − k apart, relative to the whole gradient (mean of log10 over seeds), for every cell; dotted: the mean-field slope drawn from the measured d = 0 (docs/theory.md).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'contributions.dat'
set title 'Contribution of each temporal distance to ∂L/∂Wₕₕ (xavier initialisation;'."\n".'mean over seeds)' noenhanced font ',15'
set xlabel 'temporal distance t − k (steps)' noenhanced
set ylabel '‖contribution‖ / ‖∂L/∂Wₕₕ‖'."\n".'(dimensionless)' noenhanced
set key outside below center vertical maxrows 7 Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
unset mytics
set ytics 20
set format y '10^{%g}'
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'contributions.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 0 every 20::0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'Elman sigmoid', \
     datafile index 1 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 3 notitle, \
     datafile index 2 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 1 notitle, \
     datafile index 2 every 20::2 using 1:2 with points linecolor rgb '#009E73' pointtype 9 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#009E73' linewidth 2 dashtype 1 pointtype 9 pointsize 1.1*point_scale title 'Elman tanh', \
     datafile index 3 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 3 notitle, \
     datafile index 4 using 1:2 with lines linecolor rgb '#E69F00' linewidth 2 dashtype 1 notitle, \
     datafile index 4 every 20::5 using 1:2 with points linecolor rgb '#E69F00' pointtype 6 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#E69F00' linewidth 2 dashtype 1 pointtype 6 pointsize 1.1*point_scale title 'Elman relu', \
     datafile index 5 using 1:2 with lines linecolor rgb '#56B4E9' linewidth 2 dashtype 3 notitle, \
     datafile index 6 using 1:2 with lines linecolor rgb '#000000' linewidth 2 dashtype 1 notitle, \
     datafile index 6 every 20::8 using 1:2 with points linecolor rgb '#000000' pointtype 8 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#000000' linewidth 2 dashtype 1 pointtype 8 pointsize 1.1*point_scale title 'LSTM', \
     datafile index 7 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 3 notitle, \
     datafile index 8 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 notitle, \
     datafile index 8 every 20::11 using 1:2 with points linecolor rgb '#D55E00' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#D55E00' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'GRU', \
     datafile index 9 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 3 notitle, \
     datafile index 10 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 1 notitle, \
     datafile index 10 every 20::14 using 1:2 with points linecolor rgb '#CC79A7' pointtype 9 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#CC79A7' linewidth 2 dashtype 1 pointtype 9 pointsize 1.1*point_scale title 'CT-RNN dt 0.1', \
     datafile index 11 using 1:2 with lines linecolor rgb '#E69F00' linewidth 2 dashtype 3 notitle, \
     datafile index 12 every 15::12 using 1:2 with points linecolor rgb '#56B4E9' pointtype 6 pointsize 1.1*point_scale title 'CT-RNN dt 1 = Elman tanh (circles)', \
     datafile index 13 using 1:2 with lines linecolor rgb '#000000' linewidth 2 dashtype 3 notitle
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'contributions.svg'.rnnscope_suffix
replot
unset output
