# rnnscope figure 'lookback_residual_tanh'. Run: gnuplot lookback_residual_tanh.gp (in this folder) to redraw lookback_residual_tanh.png and lookback_residual_tanh.svg
# from lookback_residual_tanh.dat.
# The share of the final gradient that reaches the state L steps back in the residual tanh network, mean (line) and range (band) over seeds and sequences, with the bound (1 + γ ‖Wₕₕ‖₂)ᴸ (dashed).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lookback_residual_tanh.dat'
set title 'Look-back window: residual tanh (xavier initialisation, H = 8, T = 30)' noenhanced font ',15'
set xlabel 'look-back distance L (steps)' noenhanced
set ylabel '‖∂L/∂s(T−L)‖ / ‖∂L/∂s(T)‖'."\n".'(dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
unset mytics
set ytics 1
set format y '10^{%g}'
set yrange [-0.17601298354822875:2.3987366487301229]
set style textbox opaque fillcolor rgb 'white' noborder margins 1, 1
set label '(1 + γ ‖Wₕₕ‖₂)ᴸ leaves at L = 6' at first 5.226220581858918, first 2.3987366487301229 left point pointtype 7 pointsize 1.4 linecolor rgb '#D55E00' offset 0.80000000000000004, -0.90000000000000002 textcolor rgb '#D55E00' font ',11' noenhanced boxed front
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lookback_residual_tanh.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'measured, mean over seeds and sequences', \
     NaN with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder title 'measured, range over seeds and sequences', \
     datafile index 2 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'bound (1 + γ ‖Wₕₕ‖₂)ᴸ, above the plot from L = 6 on (≈ 10¹⁴ at L = 30)'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lookback_residual_tanh.svg'.rnnscope_suffix
replot
unset output
