# rnnscope figure 'phase_measured'. Run: gnuplot phase_measured.gp (in this folder) to redraw phase_measured.png and phase_measured.svg
# from phase_measured.dat.
# The largest Lyapunov exponent measured on random networks of width 128 (1 seed(s), T = 500) on a coarser grid of the same plane, in the same colours, with the theory's edge.
if (!exists('rnnscope_suffix')) rnnscope_suffix = ''
set encoding utf8
datafile = 'phase_measured.dat'
set title 'Measured largest Lyapunov exponent: Elman tanh, H = 128' noenhanced font ',15'
set xlabel 'recurrent scale g (W_hh ~ N(0, g²/H))' noenhanced
set ylabel 'input scale (inputs ~ N(0, s²))' noenhanced
set key outside below center horizontal Left reverse noenhanced spacing 1.3 samplen 3 width 1 height 1
set border 15 linecolor rgb '#404040'
set tics nomirror out scale 0.75 textcolor rgb '#202020'
set palette defined (0 '#440154', 1 '#472d7b', 2 '#3b528b', 3 '#2c728e', 4 '#21918c', 5 '#28ae80', 6 '#5ec962', 7 '#addc30', 8 '#fde725')
set cbtics out scale 0.75 textcolor rgb '#202020'
set cbrange [-2.4104073310689:1.208111525962162]
set cbtics ('-2' -2, '-1.5' -1.5, '-1' -1, '-0.5' -0.5, '0' 0, '0.5' 0.5, '1' 1)
set rmargin at screen 0.8244
set colorbox vertical user origin screen 0.8378, graph 0 size screen 0.0289, graph 1 border
set label 'λ₁ per step (natural log),'."\n".'measured' at screen 0.9500, graph 0.5 center rotate by 90 noenhanced front
set mxtics
set mytics
set xrange [0.10000000000000001:3]
set yrange [0:3]
point_scale = 1.0
set terminal pngcairo size 900,600 enhanced font 'Sans,13' linewidth 1 rounded background rgb 'white'
set output 'phase_measured.png'.rnnscope_suffix
plot datafile index 0 using 1:2:4:5:6:7:3 with boxxyerror linecolor palette z linewidth 1 fillstyle solid 1.0 border notitle, \
     datafile index 1 using 1:2 with lines linecolor rgb '#808080' linewidth 2 dashtype 1 title 'edge of chaos, χ = 1'
point_scale = 0.8
set terminal svg size 900,600 fixed enhanced font 'Sans,13' fontscale 1.33 linewidth 1 rounded background rgb 'white'
set output 'phase_measured.svg'.rnnscope_suffix
replot
unset output
