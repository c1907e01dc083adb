# rnnscope figure 'lookback_lstm'. Run: gnuplot lookback_lstm.gp (in this folder) to redraw lookback_lstm.png and lookback_lstm.svg
# from lookback_lstm.dat.
# The share of the final gradient that reaches the state L steps back in the LSTM network, mean (line) and range (band) over seeds and sequences (the gated cell has no closed-form bound).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lookback_lstm.dat'
set title 'Look-back window: LSTM (orthogonal initialisation, H = 32, T = 100)' noenhanced font ',15'
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
set yrange [-3.7540742258435924:0.17876543932588537]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lookback_lstm.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'measured, mean over seeds and sequences', \
     NaN with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder title 'measured, range over seeds and sequences', \
     datafile index 2 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 3 title 'mean-field prediction (L log10 ρ, ρ = √χ the linearised step''s edge, χ = 0.928)'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lookback_lstm.svg'.rnnscope_suffix
replot
unset output
