# rnnscope figure 'layer0_spectrum_powers'. Run: gnuplot layer0_spectrum_powers.gp (in this folder) to redraw layer0_spectrum_powers.png and layer0_spectrum_powers.svg
# from layer0_spectrum_powers.dat.
# The spectral norm of Wⁿ for the recurrent matrices, computed by repeated multiplication (lines) and as ‖Q Λⁿ Q⁻¹‖₂ from the eigendecomposition (open circles, same colour); the two agree where Q is well conditioned.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'layer0_spectrum_powers.dat'
set title 'Layer 0 (antisymmetric eps 0.5): ‖Wⁿ‖₂ by repeated multiplication and by'."\n".'eigendecomposition' noenhanced font ',15'
set xlabel 'power n' noenhanced
set ylabel '‖Wⁿ‖₂ (dimensionless)' noenhanced
set key outside below center vertical maxrows 2 Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
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
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'layer0_spectrum_powers.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'weight_hh (ρ = 0.459)', \
     datafile index 1 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 title 'W - W^T - gamma I (ρ = 1.115)', \
     datafile index 2 every 3::0 using 1:2 with points linecolor rgb '#0072B2' pointtype 6 pointsize 1.1*point_scale notitle, \
     datafile index 3 every 3::1 using 1:2 with points linecolor rgb '#D55E00' pointtype 6 pointsize 1.1*point_scale notitle, \
     NaN with lines linecolor rgb '#808080' linewidth 2 dashtype 1 title 'lines: repeated product W·…·W', \
     NaN with points linecolor rgb '#808080' pointtype 6 pointsize 1.1*point_scale title 'circles: Q Λⁿ Q⁻¹'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'layer0_spectrum_powers.svg'.rnnscope_suffix
replot
unset output
