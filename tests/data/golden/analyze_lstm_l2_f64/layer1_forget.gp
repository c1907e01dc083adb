# rnnscope figure 'layer1_forget'. Run: gnuplot layer1_forget.gp (in this folder) to redraw layer1_forget.png and layer1_forget.svg
# from layer1_forget.dat.
# Layer 1's forget gate f_t along the trajectory (mean over units and batch elements, band: range), and the exact cell-to-cell Jacobian ∂c_t/∂c_(t−1), with h_(t−1) = o_(t−1) tanh(c_(t−1)) following c_(t−1) into the gates, against its direct path diag(f_t) (spectral norms and their relative difference, mean over the batch elements analysed).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'layer1_forget.dat'
set title 'Layer 1 (LSTM): forget gates and the cell-to-cell Jacobian ∂c(t)/∂c(t−1)' noenhanced font ',15'
set xlabel 'step t' noenhanced
set ylabel 'gate value, spectral norm, relative'."\n".'difference (dimensionless)' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 3 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1
set mxtics
set mytics
set autoscale xfix
set xtics 1
unset mxtics
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'layer1_forget.png'.rnnscope_suffix
plot datafile index 0 using 1:2:3 with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#0072B2' linewidth 2 dashtype 1 title 'mean forget gate fₜ over units and batch', \
     NaN with filledcurves fillcolor rgb '#0072B2' fillstyle transparent solid 0.2 noborder title 'range of fₜ (min to max)', \
     datafile index 2 using 1:2 with lines linecolor rgb '#D55E00' linewidth 2 dashtype 1 title '‖∂cₜ/∂cₜ₋₁‖₂ exact (through hₜ₋₁ too)', \
     datafile index 3 using 1:2 with lines linecolor rgb '#009E73' linewidth 2 dashtype 2 title '‖diag(fₜ)‖₂ = max fₜ (the direct path)', \
     datafile index 4 using 1:2 with lines linecolor rgb '#CC79A7' linewidth 2 dashtype 3 title '‖∂cₜ/∂cₜ₋₁ − diag(fₜ)‖₂ / ‖∂cₜ/∂cₜ₋₁‖₂'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'layer1_forget.svg'.rnnscope_suffix
replot
unset output
