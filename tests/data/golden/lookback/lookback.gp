# rnnscope figure 'lookback'. Run: gnuplot lookback.gp (in this folder) to redraw lookback.png and lookback.svg
# from lookback.dat.
# The share of the final gradient that reaches the state L steps back, for every cell (mean over seeds and sequences), with the closed-form bound of each cell that has one dashed in its colour (the list under the figures) and the mean-field prediction dotted.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lookback.dat'
set title 'Gradient reaching the state L steps back (pytorch initialisation; mean over'."\n".'seeds and sequences)' noenhanced font ',15'
set xlabel 'look-back distance L (steps)' noenhanced
set ylabel '‖∂L/∂s(T−L)‖ / ‖∂L/∂s(T)‖'."\n".'(dimensionless)' noenhanced
set key outside below center vertical maxrows 2 Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
unset mytics
set ytics 5
set format y '10^{%g}'
set yrange [-25.858671957267241:1]
set style textbox opaque fillcolor rgb 'white' noborder margins 1, 1
set label 'Elman tanh: (γ ‖Wₕₕ‖₂)ᴸ leaves at L = 33' at first 32.764525917562388, first 1 left point pointtype 7 pointsize 1.4 linecolor rgb '#0072B2' offset 0.80000000000000004, -0.90000000000000002 textcolor rgb '#0072B2' font ',11' noenhanced boxed front
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lookback.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 0 every 11::0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'Elman tanh', \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 2 notitle, \
     NaN with lines linecolor rgb '#808080' linewidth 2 dashtype 2 title 'dashed: bound (γ ‖Wₕₕ‖₂)ᴸ', \
     datafile index 2 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 3 notitle, \
     NaN with lines linecolor rgb '#808080' linewidth 2 dashtype 3 title 'dotted: mean-field predictions', \
     NaN with lines linecolor rgb '#ffffff' title ' '
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lookback.svg'.rnnscope_suffix
replot
unset output
