# rnnscope figure 'lookback_skip_k_10'. Run: gnuplot lookback_skip_k_10.gp (in this folder) to redraw lookback_skip_k_10.png and lookback_skip_k_10.svg
# from lookback_skip_k_10.dat.
# The share of the final gradient that reaches the state L steps back in the skip K 10 network, mean (line) and range (band) over seeds and sequences, with the bound (1 + γ² (‖Wₕₕ‖₂² + ‖W_skip‖₂²))^(L/2) (dashed).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lookback_skip_k_10.dat'
set title 'Look-back window: skip K 10 (xavier initialisation, H = 8, T = 30)' noenhanced font ',15'
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
set ytics ('0.01' -2, '0.02' -1.698970004, '0.03' -1.522878745, '0.05' -1.301029996, '0.1' -1, '0.2' -0.6989700043, '0.3' -0.5228787453, '0.5' -0.3010299957, '1' 0, '2' 0.3010299957, '3' 0.4771212547, '5' 0.6989700043, '10' 1, '20' 1.301029996, '30' 1.477121255, '50' 1.698970004, '100' 2, '200' 2.301029996, '300' 2.477121255, '500' 2.698970004)
set yrange [-0.68226968029344659:0.12347017154873027]
set style textbox opaque fillcolor rgb 'white' noborder margins 1, 1
set label '(1 + γ² (‖Wₕₕ‖₂² + ‖W_skip‖₂²))^(L/2) leaves at L = 1' at first 0.27847029649052296, first 0.12347017154873027 left point pointtype 7 pointsize 1.4 linecolor rgb '#D55E00' offset 0.80000000000000004, -0.90000000000000002 textcolor rgb '#D55E00' font ',11' noenhanced boxed front
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lookback_skip_k_10.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'measured, mean over seeds and sequences', \
     NaN with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder title 'measured, range over seeds and sequences', \
     datafile index 2 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'bound (1 + γ² (‖Wₕₕ‖₂² + ‖W_skip‖₂²))^(L/2), above the plot from L = 1 on (≈ 10¹³ at L = 30)'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lookback_skip_k_10.svg'.rnnscope_suffix
replot
unset output
