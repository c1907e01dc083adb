# rnnscope figure 'stack_end_to_end'. Run: gnuplot stack_end_to_end.gp (in this folder) to redraw stack_end_to_end.png and stack_end_to_end.svg
# from stack_end_to_end.dat.
# The gradient of a loss on the top layer's outputs that reaches the input and each layer's output L steps before the last, relative to the last step's, through the whole 2-layer stack (mean of log10 over the sequences that are not exactly zero); solid: a loss on the last step, dashed: on every step; grey dotted: each layer's own Jacobian chain, the layer-by-layer measure.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'stack_end_to_end.dat'
set title 'End to end through the stack: Elman tanh, 2 layers' noenhanced font ',15'
set xlabel 'distance from the last step L (steps)' noenhanced
set ylabel '‖∂L/∂q(T−L)‖ / ‖∂L/∂q(T)‖'."\n".'(dimensionless)' noenhanced
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
set xtics 1
unset mxtics
set yrange [-3.1722527260706501:0.61730724748365295]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'stack_end_to_end.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'input x, loss on the last step', \
     datafile index 1 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 title 'h of layer 0, loss on the last step', \
     datafile index 2 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 1 title 'h of layer 1, loss on the last step', \
     datafile index 3 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 2 title 'input x, loss on every step', \
     datafile index 4 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'h of layer 0, loss on every step', \
     datafile index 5 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 2 title 'h of layer 1, loss on every step', \
     datafile index 6 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 3 title 'layer 0''s own chain', \
     datafile index 7 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 3 title 'layer 1''s own chain', \
     datafile index 8 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 2 title '10⁻³ of the last step''s'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'stack_end_to_end.svg'.rnnscope_suffix
replot
unset output
