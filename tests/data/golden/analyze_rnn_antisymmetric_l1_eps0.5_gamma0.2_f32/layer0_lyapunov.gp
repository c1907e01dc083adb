# rnnscope figure 'layer0_lyapunov'. Run: gnuplot layer0_lyapunov.gp (in this folder) to redraw layer0_lyapunov.png and layer0_lyapunov.svg
# from layer0_lyapunov.dat.
# The Lyapunov spectrum of layer 0 along its trajectory on the given input, largest exponent first (mean over the batch elements analysed).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'layer0_lyapunov.dat'
set title 'Layer 0 (antisymmetric eps 0.5): Lyapunov spectrum on the input' noenhanced font ',15'
set xlabel 'exponent index i (largest first)' noenhanced
set ylabel 'exponent λᵢ (1/step, natural log)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set xtics 1
unset mxtics
set xrange [0.5:6.5]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'layer0_lyapunov.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'mean over batch elements'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'layer0_lyapunov.svg'.rnnscope_suffix
replot
unset output
