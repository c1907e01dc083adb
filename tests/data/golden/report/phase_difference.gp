# rnnscope figure 'phase_difference'. Run: gnuplot phase_difference.gp (in this folder) to redraw phase_difference.png and phase_difference.svg
# from phase_difference.dat.
# Where the finite network departs from the wide-network theory: largest near the edge, where the spectral radius of one drawn W exceeds g by about sqrt(ln H / 4H) and the exponent is small.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'phase_difference.dat'
set title 'Measured minus mean-field exponent' noenhanced font ',15'
set xlabel 'recurrent scale g (W_hh ~ N(0, g²/H))' noenhanced
set ylabel 'input scale (inputs ~ N(0, s²))' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 15 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set palette defined (0 '#440154', 1 '#472d7b', 2 '#3b528b', 3 '#2c728e', 4 '#21918c', 5 '#28ae80', 6 '#5ec962', 7 '#addc30', 8 '#fde725')
set cbtics out scale 0.75 textcolor rgb '#202020'
set cbrange [-0.035656635318802393:0.1094992372940522]
set cbtics ('-0.02' -0.02, '0' 0, '0.02' 0.02, '0.04' 0.040000000000000001, '0.06' 0.059999999999999998, '0.08' 0.080000000000000002, '0.1' 0.10000000000000001)
set rmargin at screen 0.8383
set colorbox vertical user origin screen 0.8517, graph 0 size screen 0.0289, graph 1 border
set label 'λ₁ − λ_MF per step' at screen 0.9744, graph 0.5 center rotate by 90 noenhanced front
set mxtics
set mytics
set xrange [0.10000000000000001:3]
set yrange [0:3]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'phase_difference.png'.rnnscope_suffix
plot datafile index 0 using 1:2:4:5:6:7:3 with boxxyerror linecolor palette z linewidth 1 fillstyle solid 1.0 border notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 1 title 'edge of chaos, χ = 1'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'phase_difference.svg'.rnnscope_suffix
replot
unset output
