# rnnscope figure 'conv_distance'. Run: gnuplot conv_distance.gp (in this folder) to redraw conv_distance.png and conv_distance.svg
# from conv_distance.dat.
# The input gradient of each causal Conv1D stack d steps back, relative to d = 0: exactly zero from the receptive field (dashed) on, drawn as marks on a floor line, beside the Elman tanh RNN's look-back ratio (xavier initialisation), which decays smoothly and never reaches zero.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'conv_distance.dat'
set title 'Conv1D stacks beside an RNN: gradient reaching the input d steps back' noenhanced font ',15'
set xlabel 'distance d (steps)' noenhanced
set ylabel 'gradient norm relative to d = 0'."\n".'(dimensionless)' noenhanced
set key outside below center vertical maxrows 4 Left reverse noenhanced spacing 1.3 samplen 2.5 width 0 font ',11' height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set logscale y 10
set format y '10^{%T}'
unset mytics
set yrange [3.1622776601683795e-09:*]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'conv_distance.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 0 every 4::0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'Conv1D K=3 dilation 1-2-4', \
     datafile index 1 every 4::1 using 1:2 with points linecolor rgb '#0072B2' pointtype 6 pointsize 1.1*point_scale title 'exactly 0, drawn at 10⁻⁷', \
     datafile index 2 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 2 title 'receptive field d = 15', \
     datafile index 3 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 notitle, \
     datafile index 3 every 4::2 using 1:2 with points linecolor rgb '#D55E00' pointtype 5 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#D55E00' linewidth 2 dashtype 1 pointtype 5 pointsize 1.1*point_scale title 'Conv1D K=2 dilation 1-16', \
     datafile index 4 every 2::1 using 1:2 with points linecolor rgb '#D55E00' pointtype 4 pointsize 1.1*point_scale title 'exactly 0, drawn at 10⁻⁸', \
     datafile index 5 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'receptive field d = 32', \
     datafile index 6 using 1:2 with lines linecolor rgb '#000000' linewidth 2 dashtype 1 title 'Elman tanh RNN (xavier), look-back', \
     NaN with lines linecolor rgb '#ffffff' title ' '
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'conv_distance.svg'.rnnscope_suffix
replot
unset output
