# rnnscope figure 'lookback_antisymmetric_eps_0.1'. Run: gnuplot lookback_antisymmetric_eps_0.1.gp (in this folder) to redraw lookback_antisymmetric_eps_0.1.png and lookback_antisymmetric_eps_0.1.svg
# from lookback_antisymmetric_eps_0.1.dat.
# The share of the final gradient that reaches the state L steps back in the antisymmetric eps 0.1 network, mean (line) and range (band) over seeds and sequences, with the bound (1 + ε ‖W − Wᵀ − γI‖₂)ᴸ (dashed).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'lookback_antisymmetric_eps_0.1.dat'
set title 'Look-back window: antisymmetric eps 0.1 (xavier initialisation, H = 32, T ='."\n".'200)' noenhanced font ',15'
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
set ytics ('0.01' -2, '0.02' -1.698970004, '0.05' -1.301029996, '0.1' -1, '0.2' -0.6989700043, '0.5' -0.3010299957, '1' 0, '2' 0.3010299957, '5' 0.6989700043, '10' 1, '20' 1.301029996, '50' 1.698970004, '100' 2, '200' 2.301029996, '500' 2.698970004, '1000' 3, '2000' 3.301029996, '5000' 3.698970004)
set yrange [-0.11351565406726011:1.4242077018118453]
set style textbox opaque fillcolor rgb 'white' noborder margins 1, 1
set label '(1 + ε ‖W − Wᵀ − γI‖₂)ᴸ leaves at L = 15' at first 14.856466448329117, first 1.4242077018118453 left point pointtype 7 pointsize 1.4 linecolor rgb '#D55E00' offset 0.80000000000000004, -0.90000000000000002 textcolor rgb '#D55E00' font ',11' noenhanced boxed front
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'lookback_antisymmetric_eps_0.1.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'measured, mean over seeds and sequences', \
     NaN with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder title 'measured, range over seeds and sequences', \
     datafile index 2 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'bound (1 + ε ‖W − Wᵀ − γI‖₂)ᴸ, above the plot from L = 15 on (≈ 10¹⁹ at L = 200)'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'lookback_antisymmetric_eps_0.1.svg'.rnnscope_suffix
replot
unset output
