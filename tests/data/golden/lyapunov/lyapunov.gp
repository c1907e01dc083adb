# rnnscope figure 'lyapunov'. Run: gnuplot lyapunov.gp (in this folder) to redraw lyapunov.png and lyapunov.svg
# from lyapunov.dat.
# The Lyapunov spectrum of each cell, largest exponent first: mean (line) and ± one standard deviation (band) over seeds and sequences; exp(λ₁) is the asymptotic per-step growth of the Jacobian chains.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lyapunov.dat'
set title 'Lyapunov spectra (pytorch initialisation; mean over seeds and sequences)' noenhanced font ',15'
set xlabel 'exponent index i (largest first)' noenhanced
set ylabel 'exponent λᵢ (1/step, natural log)' noenhanced
set key outside below center vertical maxrows 2 Left reverse noenhanced spacing 1.3 samplen 2.5 width 0 font ',11' height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set xrange [0.5:32.5]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lyapunov.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 1 every 2::0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'Elman tanh', \
     datafile index 2 using 1:2 with points linecolor rgb '#0072B2' pointtype 12 pointsize 1.1*point_scale notitle, \
     NaN with points linecolor rgb '#808080' pointtype 12 pointsize 1.1*point_scale title 'open diamond: mean-field λ_MF, the prediction of λ₁, in the cell''s colour'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lyapunov.svg'.rnnscope_suffix
replot
unset output
