# rnnscope figure 'activation_rho_power'. Run: gnuplot activation_rho_power.gp (in this folder) to redraw activation_rho_power.png and activation_rho_power.svg
# from activation_rho_power.dat.
# How much less a chain of T sigmoid steps passes back than a chain of T tanh steps at ε = 0.05: ρ(ε)ᵀ exactly and from the order-1 approximation. Below: their ratio, 1.03819 at T = 20: on the log axis above the two curves look alike, but the exact powers fall more slowly than the approximated ones.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'activation_rho_power.dat'
point_scale = 1.0
set terminal pngcairo size 900,980 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'activation_rho_power.png'.rnnscope_suffix
set multiplot
reset
set encoding utf8
set origin 0, 0.3878
set size 1, 0.6122
set title 'ρ(ε)ᵀ = (sigmoid′(ε) / tanh′(ε))ᵀ at ε = 0.05' noenhanced font ',15'
set xlabel 'number of steps T' noenhanced
set ylabel 'ρ(ε)ᵀ (dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set logscale y 10
set format y '10^{%T}'
unset mytics
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'exact', \
     datafile index 1 using 1:2 with points linecolor rgb '#D55E00' pointtype 6 pointsize 1.1*point_scale title 'order-1 approximation (circles)'
reset
set encoding utf8
set origin 0, 0.0000
set size 1, 0.3878
set title 'Ratio ρ(ε)ᵀ exact / ρ(ε)ᵀ order 1' noenhanced font ',15'
set xlabel 'number of steps T' noenhanced
set ylabel 'exact / approximate (dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
plot datafile index 2 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'exact / order 1', \
     datafile index 3 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 3 title '1: the two agree'
unset multiplot
point_scale = 0.8
set terminal svg size 900,980 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'activation_rho_power.svg'.rnnscope_suffix
set multiplot
reset
set encoding utf8
set origin 0, 0.3878
set size 1, 0.6122
set title 'ρ(ε)ᵀ = (sigmoid′(ε) / tanh′(ε))ᵀ at ε = 0.05' noenhanced font ',15'
set xlabel 'number of steps T' noenhanced
set ylabel 'ρ(ε)ᵀ (dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set offsets graph 0.02, graph 0.02, 0, 0
set logscale y 10
set format y '10^{%T}'
unset mytics
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'exact', \
     datafile index 1 using 1:2 with points linecolor rgb '#D55E00' pointtype 6 pointsize 1.1*point_scale title 'order-1 approximation (circles)'
reset
set encoding utf8
set origin 0, 0.0000
set size 1, 0.3878
set title 'Ratio ρ(ε)ᵀ exact / ρ(ε)ᵀ order 1' noenhanced font ',15'
set xlabel 'number of steps T' noenhanced
set ylabel 'exact / approximate (dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
plot datafile index 2 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'exact / order 1', \
     datafile index 3 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 3 title '1: the two agree'
unset multiplot
unset output
