# rnnscope figure 'lstm_paths'. Run: gnuplot lstm_paths.gp (in this folder) to redraw lstm_paths.png and lstm_paths.svg
# from lstm_paths.dat.
# The gradient carried back L steps through the LSTM's cell path alone (solid, the forget gates only), through its hidden path alone (dashed, W_hh and the gate derivatives) and through both with every cross term, the exact chain of the full step Jacobians on (h, c) (dotted, the total), one colour per forget bias.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lstm_paths.dat'
set title 'LSTM (xavier initialisation): gradient through the cell path c, the hidden'."\n".'path h and both (the total)' noenhanced font ',15'
set xlabel 'distance L (steps)' noenhanced
set ylabel 'gradient norm relative to L = 0'."\n".'(dimensionless)' noenhanced
set key outside below center vertical maxrows 3 Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
unset mytics
set ytics 5
set format y '10^{%g}'
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lstm_paths.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'cell path c, forget bias 0', \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 2 title 'hidden path h, forget bias 0', \
     datafile index 2 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 3 title 'total (h, c), forget bias 0', \
     datafile index 3 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 title 'cell path c, forget bias 1', \
     datafile index 4 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'hidden path h, forget bias 1', \
     datafile index 5 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 3 title 'total (h, c), forget bias 1'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lstm_paths.svg'.rnnscope_suffix
replot
unset output
