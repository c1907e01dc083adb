# rnnscope figure 'learnability_initial_lookback'. Run: gnuplot learnability_initial_lookback.gp (in this folder) to redraw learnability_initial_lookback.png and learnability_initial_lookback.svg
# from learnability_initial_lookback.dat.
# Each run at its initial look-back ratio over the whole sequence, filled if it learned the task and open if not.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'learnability_initial_lookback.dat'
set title 'Initial gradient flow against learning' noenhanced font ',15'
set xlabel 'log10 ||dL/ds(0)|| / ||dL/ds(T-1)|| at initialisation' noenhanced
set ylabel 'sequence length T (seeds spread'."\n".'slightly)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set logscale y 10
set ytics (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
set format y '%g'
set yrange [6.666666666666667:150]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'learnability_initial_lookback.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale title 'learned', \
     datafile index 1 using 1:2 with points linecolor rgb '#D55E00' pointtype 6 pointsize 1.1*point_scale title 'did not learn'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'learnability_initial_lookback.svg'.rnnscope_suffix
replot
unset output
