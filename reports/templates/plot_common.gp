# Shared look of every plot in an occult report (each plot is one SVG, inlined into the HTML page).
# Double-brace placeholders are filled by `occult report`; everything else can be edited freely.
reset
set terminal svg size {{width}},{{height}} dynamic noenhanced font 'Helvetica,12' background '#ffffff'
set output {{output}}
set encoding utf8
set grid ytics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#444444'
set tics nomirror
set key outside right top vertical Left reverse noenhanced samplen 2 spacing 1.1
# One colour per strategy, in the report's series order (standard first); the report adds a dash type
# per placement. Okabe-Ito colours stay distinct under colour blindness.
set style line 1 lc rgb '#000000' lw 2 pt 7 ps 0.8
set style line 2 lc rgb '#0072B2' lw 2 pt 5 ps 0.8
set style line 3 lc rgb '#D55E00' lw 2 pt 9 ps 0.9
set style line 4 lc rgb '#009E73' lw 2 pt 11 ps 0.9
set style line 5 lc rgb '#CC79A7' lw 2 pt 13 ps 0.9
set style line 6 lc rgb '#E69F00' lw 2 pt 15 ps 0.9
set style line 7 lc rgb '#56B4E9' lw 2 pt 4 ps 0.8
