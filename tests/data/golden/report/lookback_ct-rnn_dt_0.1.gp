# rnnscope figure 'lookback_ct-rnn_dt_0.1'. Run: gnuplot lookback_ct-rnn_dt_0.1.gp (in this folder) to redraw lookback_ct-rnn_dt_0.1.png and lookback_ct-rnn_dt_0.1.svg
# from lookback_ct-rnn_dt_0.1.dat.
# The share of the final gradient that reaches the state L steps back in the CT-RNN dt 0.1 network, mean (line) and range (band) over seeds and sequences, with the bound (|1 − dt| + dt ‖Wₕₕ‖₂)ᴸ (dashed).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lookback_ct-rnn_dt_0.1.dat'
set title 'Look-back window: CT-RNN dt 0.1 (xavier initialisation, H = 32, T = 200)' noenhanced font ',15'
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
set yrange [-4.0262367024864467:0.19172555726125939]
set style textbox opaque fillcolor rgb 'white' noborder margins 1, 1
set label '(|1 − dt| + dt ‖Wₕₕ‖₂)ᴸ leaves at L = 6' at first 5.3605162934999013, first 0.19172555726125939 left point pointtype 7 pointsize 1.4 linecolor rgb '#D55E00' offset 0.80000000000000004, -0.90000000000000002 textcolor rgb '#D55E00' font ',11' noenhanced boxed front
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lookback_ct-rnn_dt_0.1.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'measured, mean over seeds and sequences', \
     NaN with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder title 'measured, range over seeds and sequences', \
     datafile index 2 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 3 title 'mean-field prediction (L λ / ln 10, Euler steps'' dynamic mean field, χ = 0.726)', \
     datafile index 3 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'bound (|1 − dt| + dt ‖Wₕₕ‖₂)ᴸ, above the plot from L = 6 on (≈ 10⁷ at L = 200)'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lookback_ct-rnn_dt_0.1.svg'.rnnscope_suffix
replot
unset output
