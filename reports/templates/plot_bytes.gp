# Bytes per MoE layer against the sweep's x dimension: all remote bytes (left) and the part that crosses
# the network between nodes (right), one line per series.
{{data}}
set multiplot layout 1,2 title {{title}}
set xlabel {{xlabel}}
{{xsetup}}
set key off
set ylabel {{ylabel_remote}}
{{ysetup_remote}}
plot {{plot_remote}}
set key on
set ylabel {{ylabel_inter}}
{{ysetup_inter}}
plot {{plot_inter}}
unset multiplot
