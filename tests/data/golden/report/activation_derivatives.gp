# rnnscope figure 'activation_derivatives'. Run: gnuplot activation_derivatives.gp (in this folder) to redraw activation_derivatives.png and activation_derivatives.svg
# from activation_derivatives.dat.
# The exact derivatives sigmoid′(x) and tanh′(x) (solid) and their order-1 Maclaurin polynomials (dashed, same colour), with the point x = ε = 0.05 at which the ratio ρ(ε) = sigmoid′(ε)/tanh′(ε) is taken.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'activation_derivatives.dat'
set title 'sigmoid′ and tanh′ with their order-1 Maclaurin approximations' noenhanced font ',15'
set xlabel 'pre-activation x (dimensionless)' noenhanced
set ylabel 'derivative f′(x) (dimensionless)' noenhanced
set key outside below center vertical maxrows 2 Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set yrange [-0.050000000000000003:1.1000000000000001]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'activation_derivatives.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'tanh′(x), exact', \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 2 title 'tanh′(x), order 1', \
     datafile index 2 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 title 'sigmoid′(x), exact', \
     datafile index 3 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'sigmoid′(x), order 1', \
     datafile index 4 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 3 title 'x = ε = 0.05', \
     NaN with lines linecolor rgb '#ffffff' title ' '
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'activation_derivatives.svg'.rnnscope_suffix
replot
unset output
