# A line chart against the sweep's x dimension, one line per series (layer time, speedup, copies per token).
{{data}}
set title {{title}}
set xlabel {{xlabel}}
set ylabel {{ylabel}}
{{xsetup}}
{{ysetup}}
plot {{plot}}
