# rnnscope figure 'layer1_chains'. Run: gnuplot layer1_chains.gp (in this folder) to redraw layer1_chains.png and layer1_chains.svg
# from layer1_chains.dat.
# The spectral norm of the exact Jacobian chain of layer 1 over L steps on the given input, mean (line) and range (band) over the batch elements analysed, with the bound cᴸ (dashed).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'layer1_chains.dat'
set title 'Layer 1 (residual tanh): Jacobian chain norms ‖∂s(T−1) / ∂s(T−1−L)‖₂' noenhanced font ',15'
set xlabel 'distance L (steps)' noenhanced
set ylabel 'spectral norm of the chain'."\n".'(dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
unset mytics
set ytics ('0.01' -2, '0.02' -1.698970004, '0.03' -1.522878745, '0.05' -1.301029996, '0.1' -1, '0.2' -0.6989700043, '0.3' -0.5228787453, '0.5' -0.3010299957, '1' 0, '2' 0.3010299957, '3' 0.4771212547, '5' 0.6989700043, '10' 1, '20' 1.301029996, '30' 1.477121255, '50' 1.698970004, '100' 2, '200' 2.301029996, '300' 2.477121255, '500' 2.698970004)
set xtics 1
unset mxtics
set yrange [-0.10000000000000001:0.91980887928814048]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'layer1_chains.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'mean over batch elements', \
     NaN with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder title 'range over batch elements', \
     datafile index 2 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 2 title 'bound cᴸ, above the plot from L = 4 on (≈ 10¹ at L = 5)'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'layer1_chains.svg'.rnnscope_suffix
replot
unset output
