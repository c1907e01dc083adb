# rnnscope figure 'lyapunov'. Run: gnuplot lyapunov.gp (in this folder) to redraw lyapunov.png and lyapunov.svg
# from lyapunov.dat.
# The Lyapunov spectrum of each cell, largest exponent first: mean (line) and ± one standard deviation (band) over seeds and sequences; exp(λ₁) is the asymptotic per-step growth of the Jacobian chains.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lyapunov.dat'
set title 'Lyapunov spectra (xavier initialisation; mean over seeds and sequences); y'."\n".'axis cut at -9.8' noenhanced font ',15'
set xlabel 'exponent index i (largest first)' noenhanced
set ylabel 'exponent λᵢ (1/step, natural log)' noenhanced
set key outside below center vertical maxrows 11 Left reverse noenhanced spacing 1.3 samplen 2.5 width 0 font ',11' height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set xrange [0.5:320.5]
set yrange [-9.7546292741554304:*]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lyapunov.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 2 using 1:2:3 with filledcurves fillcolor rgb '#D55E00' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 4 using 1:2:3 with filledcurves fillcolor rgb '#009E73' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 6 using 1:2:3 with filledcurves fillcolor rgb '#CC79A7' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 8 using 1:2:3 with filledcurves fillcolor rgb '#E69F00' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 10 using 1:2:3 with filledcurves fillcolor rgb '#56B4E9' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 13 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 15 using 1:2:3 with filledcurves fillcolor rgb '#D55E00' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 17 using 1:2:3 with filledcurves fillcolor rgb '#009E73' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 1 every 2::0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'Elman sigmoid', \
     datafile index 3 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 notitle, \
     datafile index 3 every 2::0 using 1:2 with points linecolor rgb '#D55E00' pointtype 5 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#D55E00' linewidth 2 dashtype 1 pointtype 5 pointsize 1.1*point_scale title 'Elman tanh', \
     datafile index 5 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 1 notitle, \
     datafile index 5 every 2::0 using 1:2 with points linecolor rgb '#009E73' pointtype 9 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#009E73' linewidth 2 dashtype 1 pointtype 9 pointsize 1.1*point_scale title 'Elman relu (7 below -9.8, min -38.8; 11 dead units at −∞)', \
     datafile index 7 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 1 notitle, \
     datafile index 7 every 4::1 using 1:2 with points linecolor rgb '#CC79A7' pointtype 13 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#CC79A7' linewidth 2 dashtype 1 pointtype 13 pointsize 1.1*point_scale title 'LSTM, state (h, c): 2H = 64 exponents', \
     datafile index 9 using 1:2 with lines linecolor rgb '#E69F00' linewidth 2 dashtype 1 notitle, \
     datafile index 9 every 2::0 using 1:2 with points linecolor rgb '#E69F00' pointtype 6 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#E69F00' linewidth 2 dashtype 1 pointtype 6 pointsize 1.1*point_scale title 'GRU', \
     datafile index 11 using 1:2 with lines linecolor rgb '#56B4E9' linewidth 2 dashtype 1 notitle, \
     datafile index 11 every 2::1 using 1:2 with points linecolor rgb '#56B4E9' pointtype 4 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#56B4E9' linewidth 2 dashtype 1 pointtype 4 pointsize 1.1*point_scale title 'CT-RNN dt 0.1', \
     datafile index 12 every 3::1 using 1:2 with points linecolor rgb '#000000' pointtype 6 pointsize 1.1*point_scale title 'CT-RNN dt 1 = Elman tanh (circles)', \
     datafile index 14 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 4 notitle, \
     datafile index 14 every 2::1 using 1:2 with points linecolor rgb '#0072B2' pointtype 12 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 4 pointtype 12 pointsize 1.1*point_scale title 'residual tanh', \
     datafile index 16 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 4 notitle, \
     datafile index 16 every 20::16 using 1:2 with points linecolor rgb '#D55E00' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#D55E00' linewidth 2 dashtype 4 pointtype 7 pointsize 1.1*point_scale title 'skip K 10, state h_t .. h_(t-K+1): KH = 320 exponents', \
     datafile index 18 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 4 notitle, \
     datafile index 18 every 2::1 using 1:2 with points linecolor rgb '#009E73' pointtype 5 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#009E73' linewidth 2 dashtype 4 pointtype 5 pointsize 1.1*point_scale title 'antisymmetric eps 0.1', \
     datafile index 19 using 1:2 with points linecolor rgb '#0072B2' pointtype 12 pointsize 1.1*point_scale notitle, \
     datafile index 20 using 1:2 with points linecolor rgb '#D55E00' pointtype 12 pointsize 1.1*point_scale notitle, \
     datafile index 21 using 1:2 with points linecolor rgb '#009E73' pointtype 12 pointsize 1.1*point_scale notitle, \
     datafile index 22 using 1:2 with points linecolor rgb '#CC79A7' pointtype 12 pointsize 1.1*point_scale notitle, \
     datafile index 23 using 1:2 with points linecolor rgb '#E69F00' pointtype 12 pointsize 1.1*point_scale notitle, \
     datafile index 24 using 1:2 with points linecolor rgb '#56B4E9' pointtype 12 pointsize 1.1*point_scale notitle, \
     datafile index 25 using 1:2 with points linecolor rgb '#000000' pointtype 12 pointsize 1.1*point_scale notitle, \
     NaN with points linecolor rgb '#808080' pointtype 12 pointsize 1.1*point_scale title 'open diamond: mean-field λ_MF, the prediction of λ₁, in the cell''s colour'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lyapunov.svg'.rnnscope_suffix
replot
unset output
