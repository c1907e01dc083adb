# rnnscope figure 'layer0_spectrum_eigenvalues'. Run: gnuplot layer0_spectrum_eigenvalues.gp (in this folder) to redraw layer0_spectrum_eigenvalues.png and layer0_spectrum_eigenvalues.svg
# from layer0_spectrum_eigenvalues.dat.
# The eigenvalues λ of the recurrent matrices with the unit circle: those outside are directions Wⁿ stretches, those inside directions it shrinks; ρ is the spectral radius.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'layer0_spectrum_eigenvalues.dat'
set title 'Layer 0 (antisymmetric eps 0.5): Eigenvalues of the recurrent matrices in'."\n".'the complex plane' noenhanced font ',15'
set xlabel 'Re λ (dimensionless)' noenhanced
set ylabel 'Im λ (dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set size ratio -1
set xzeroaxis linetype 1 linecolor rgb '#a0a0a0' linewidth 1
set yzeroaxis linetype 1 linecolor rgb '#a0a0a0' linewidth 1
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'layer0_spectrum_eigenvalues.png'.rnnscope_suffix
plot datafile index 0 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale title 'weight_hh (ρ = 0.459)', \
     datafile index 1 using 1:2 with points linecolor rgb '#D55E00' pointtype 5 pointsize 1.1*point_scale title 'W - W^T - gamma I (ρ = 1.115)', \
     datafile index 2 using 1:2 with lines linecolor rgb '#808080' linewidth 1.5 dashtype 2 title '|z| = 1'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'layer0_spectrum_eigenvalues.svg'.rnnscope_suffix
replot
unset output
