# rnnscope figure 'lookback'. Run: gnuplot lookback.gp (in this folder) to redraw lookback.png and lookback.svg
# from lookback.dat.
# The share of the final gradient that reaches the state L steps back, for every cell (mean over seeds and sequences), with the closed-form bound of each cell that has one dashed in its colour (the list under the figures) and the mean-field prediction dotted.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lookback.dat'
set title 'Gradient reaching the state L steps back (xavier initialisation; mean over'."\n".'seeds and sequences)' noenhanced font ',15'
set xlabel 'look-back distance L (steps)' noenhanced
set ylabel '‖∂L/∂s(T−L)‖ / ‖∂L/∂s(T)‖'."\n".'(dimensionless)' noenhanced
set key outside below center vertical maxrows 7 Left reverse noenhanced spacing 1.3 samplen 2.5 width 0 font ',11' height 1
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
set yrange [-123.66463533436624:4.2431598939179542]
set style textbox opaque fillcolor rgb 'white' noborder margins 1, 1
set label 'Elman sigmoid: (γ ‖Wₕₕ‖₂)ᴸ' at first 200, first -66.595710001733181 right point pointtype 7 pointsize 1.4 linecolor rgb '#0072B2' offset -0.80000000000000004, -0.90000000000000002 textcolor rgb '#0072B2' font ',11' noenhanced boxed front
set label 'Elman tanh, Elman relu, CT-RNN dt 1: (γ ‖Wₕₕ‖₂)ᴸ leaves at L = 16' at first 15.769054428703429, first 4.2431598939179542 left point pointtype 7 pointsize 1.4 linecolor rgb '#D55E00' offset 0.80000000000000004, -0.90000000000000002 textcolor rgb '#D55E00' font ',11' noenhanced boxed front
set label 'CT-RNN dt 0.1: (|1 − dt| + dt ‖Wₕₕ‖₂)ᴸ leaves at L = 119' at first 118.63586718529011, first 4.2431598939179542 right point pointtype 7 pointsize 1.4 linecolor rgb '#56B4E9' offset -0.80000000000000004, -2.2000000000000002 textcolor rgb '#56B4E9' font ',11' noenhanced boxed front
set label 'residual tanh: (1 + γ ‖Wₕₕ‖₂)ᴸ leaves at L = 10' at first 9.303096674985186, first 4.2431598939179542 left point pointtype 7 pointsize 1.4 linecolor rgb '#0072B2' offset 0.80000000000000004, -3.5 textcolor rgb '#0072B2' font ',11' noenhanced boxed front
set label 'skip K 10: (1 + γ² (‖Wₕₕ‖₂² + ‖W_skip‖₂²))^(L/2) leaves at L = 10' at first 9.3675122737594307, first 4.2431598939179542 left point pointtype 7 pointsize 1.4 linecolor rgb '#D55E00' offset 0.80000000000000004, -4.7999999999999998 textcolor rgb '#D55E00' font ',11' noenhanced boxed front
set label 'antisymmetric eps 0.1: (1 + ε ‖W − Wᵀ − γI‖₂)ᴸ leaves at L = 45' at first 44.262057085277533, first 4.2431598939179542 left point pointtype 7 pointsize 1.4 linecolor rgb '#009E73' offset 0.80000000000000004, -6.1000000000000005 textcolor rgb '#009E73' font ',11' noenhanced boxed front
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lookback.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 0 every 21::0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'Elman sigmoid', \
     datafile index 1 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 notitle, \
     datafile index 1 every 21::1 using 1:2 with points linecolor rgb '#D55E00' pointtype 5 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#D55E00' linewidth 2 dashtype 1 pointtype 5 pointsize 1.1*point_scale title 'Elman tanh', \
     datafile index 2 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 1 notitle, \
     datafile index 2 every 21::3 using 1:2 with points linecolor rgb '#009E73' pointtype 9 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#009E73' linewidth 2 dashtype 1 pointtype 9 pointsize 1.1*point_scale title 'Elman relu', \
     datafile index 3 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 1 notitle, \
     datafile index 3 every 21::5 using 1:2 with points linecolor rgb '#CC79A7' pointtype 13 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#CC79A7' linewidth 2 dashtype 1 pointtype 13 pointsize 1.1*point_scale title 'LSTM', \
     datafile index 4 using 1:2 with lines linecolor rgb '#E69F00' linewidth 2 dashtype 1 notitle, \
     datafile index 4 every 21::7 using 1:2 with points linecolor rgb '#E69F00' pointtype 6 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#E69F00' linewidth 2 dashtype 1 pointtype 6 pointsize 1.1*point_scale title 'GRU', \
     datafile index 5 using 1:2 with lines linecolor rgb '#56B4E9' linewidth 2 dashtype 1 notitle, \
     datafile index 5 every 21::9 using 1:2 with points linecolor rgb '#56B4E9' pointtype 4 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#56B4E9' linewidth 2 dashtype 1 pointtype 4 pointsize 1.1*point_scale title 'CT-RNN dt 0.1', \
     datafile index 6 every 15::8 using 1:2 with points linecolor rgb '#000000' pointtype 6 pointsize 1.1*point_scale title 'CT-RNN dt 1 = Elman tanh (circles)', \
     datafile index 7 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 4 notitle, \
     datafile index 7 every 21::13 using 1:2 with points linecolor rgb '#0072B2' pointtype 12 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 4 pointtype 12 pointsize 1.1*point_scale title 'residual tanh', \
     datafile index 8 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 4 notitle, \
     datafile index 8 every 21::15 using 1:2 with points linecolor rgb '#D55E00' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#D55E00' linewidth 2 dashtype 4 pointtype 7 pointsize 1.1*point_scale title 'skip K 10', \
     datafile index 9 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 4 notitle, \
     datafile index 9 every 21::17 using 1:2 with points linecolor rgb '#009E73' pointtype 5 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#009E73' linewidth 2 dashtype 4 pointtype 5 pointsize 1.1*point_scale title 'antisymmetric eps 0.1', \
     datafile index 10 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 4 notitle, \
     datafile index 10 every 21::19 using 1:2 with points linecolor rgb '#CC79A7' pointtype 9 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#CC79A7' linewidth 2 dashtype 4 pointtype 9 pointsize 1.1*point_scale title 'LSTM 2 layers', \
     datafile index 11 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 2 notitle, \
     datafile index 12 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 notitle, \
     datafile index 13 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 2 notitle, \
     datafile index 14 using 1:2 with lines linecolor rgb '#56B4E9' linewidth 2 dashtype 2 notitle, \
     datafile index 15 using 1:2 with lines linecolor rgb '#000000' linewidth 2 dashtype 2 notitle, \
     datafile index 16 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 2 notitle, \
     datafile index 17 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 notitle, \
     datafile index 18 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 2 notitle, \
     NaN with lines linecolor rgb '#808080' linewidth 2 dashtype 2 title 'dashed: bounds (marks: where each leaves)', \
     datafile index 19 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 3 notitle, \
     datafile index 20 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 3 notitle, \
     datafile index 21 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 3 notitle, \
     datafile index 22 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 3 notitle, \
     datafile index 23 using 1:2 with lines linecolor rgb '#E69F00' linewidth 2 dashtype 3 notitle, \
     datafile index 24 using 1:2 with lines linecolor rgb '#56B4E9' linewidth 2 dashtype 3 notitle, \
     datafile index 25 using 1:2 with lines linecolor rgb '#000000' linewidth 2 dashtype 3 notitle, \
     datafile index 26 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 3 notitle, \
     NaN with lines linecolor rgb '#808080' linewidth 2 dashtype 3 title 'dotted: mean-field predictions', \
     NaN with lines linecolor rgb '#ffffff' title ' '
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lookback.svg'.rnnscope_suffix
replot
unset output
