# rnnscope figure 'layer0_contributions'. Run: gnuplot layer0_contributions.gp (in this folder) to redraw layer0_contributions.png and layer0_contributions.svg
# from layer0_contributions.dat.
# How much of layer 0's gradient ∂L/∂W_hh comes from terms linking steps t − k apart, relative to the whole gradient, for a random-projection loss on the layer's outputs.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'layer0_contributions.dat'
set title 'Layer 0 (Elman relu): contribution of each temporal distance to ∂L/∂Wₕₕ' noenhanced font ',15'
set xlabel 'temporal distance t − k (steps)' noenhanced
set ylabel '‖contribution‖ / ‖∂L/∂Wₕₕ‖'."\n".'(dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
unset mytics
set ytics 1
set format y '10^{%g}'
set xtics 1
unset mxtics
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'layer0_contributions.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 notitle, \
     datafile index 0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale notitle, \
     NaN with linespoints linecolor rgb '#0072B2' linewidth 2 dashtype 1 pointtype 7 pointsize 1.1*point_scale title 'random-projection loss on every step'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'layer0_contributions.svg'.rnnscope_suffix
replot
unset output
