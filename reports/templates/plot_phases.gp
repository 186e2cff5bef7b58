# Stacked phase times of one MoE layer: one bar per (x value, series). With overlap on, phases run
# concurrently and the bar is taller than the layer time.
{{data}}
set title {{title}}
set ylabel {{ylabel}}
set style data histograms
set style histogram rowstacked gap 1
set style fill solid 0.9 border rgb '#ffffff'
set boxwidth 0.8
set xtics rotate by 40 right font ',10' nomirror
set yrange [0:*]
plot {{plot}}
