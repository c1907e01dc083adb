# rnnscope figure 'phase_theory'. Run: gnuplot phase_theory.gp (in this folder) to redraw phase_theory.png and phase_theory.svg
# from phase_theory.dat.
# The mean-field exponent λ_MF = ln(χ)/2 per step (or ln(1 − dt + dt √χ) for the CT-RNN) over the recurrent scale g and the input scale; the grey line is the edge of chaos χ = 1, ordered to its left, chaotic to its right; the points are the usual initialisations fed inputs N(0, 1).
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'phase_theory.dat'
set title 'Mean-field phase diagram: Elman tanh' noenhanced font ',15'
set xlabel 'recurrent scale g (W_hh ~ N(0, g²/H))' noenhanced
set ylabel 'input scale (inputs ~ N(0, s²))' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 15 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set palette defined (0 '#440154', 1 '#472d7b', 2 '#3b528b', 3 '#2c728e', 4 '#21918c', 5 '#28ae80', 6 '#5ec962', 7 '#addc30', 8 '#fde725')
set cbtics out scale 0.75 textcolor rgb '#202020'
set cbrange [-2.4104073310689:1.208111525962162]
set cbtics ('-2' -2, '-1.5' -1.5, '-1' -1, '-0.5' -0.5, '0' 0, '0.5' 0.5, '1' 1)
set rmargin at screen 0.8489
set colorbox vertical user origin screen 0.8622, graph 0 size screen 0.0289, graph 1 border
set label 'λ_MF per step (natural log)' at screen 0.9744, graph 0.5 center rotate by 90 noenhanced front
set mxtics
set mytics
set xrange [0.10000000000000001:3]
set yrange [0:3]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'phase_theory.png'.rnnscope_suffix
plot datafile index 0 using 1:2:4:5:6:7:3 with boxxyerror linecolor palette z linewidth 1 fillstyle solid 1.0 border notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 1 title 'edge of chaos, χ = 1', \
     datafile index 2 using 1:2 with points linecolor rgb '#0072B2' pointtype 7 pointsize 1.1*point_scale title 'pytorch (g = 0.577, inputs N(0, 1))', \
     datafile index 3 using 1:2 with points linecolor rgb '#D55E00' pointtype 5 pointsize 1.1*point_scale title 'xavier = orthogonal 1 (g = 1, inputs N(0, 1))'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'phase_theory.svg'.rnnscope_suffix
replot
unset output
