# Chart of tools/bench-http.sh: requests/s (top) and p99 latency (bottom)
# of each target and load, grouped bars without and with 100% mirroring.
# Run by the script as
#   gnuplot -e "data='FILE.dat'; out='FILE.png'; heading='TITLE'" tools/bench/peers.gnuplot
# FILE.dat: one row per target and load: a quoted label, then requests/s
# without and with mirroring, then p99 ms without and with; "n/a" where
# there is no figure (HAProxy has no mirroring, the ceiling no proxy).
if (!exists("data") || !exists("out")) {
	print "peers.gnuplot: set data and out with -e"
	exit status 2
}
if (!exists("heading")) heading = "HTTP proxies"
set terminal pngcairo size 1280,960 font "sans,10"
set output out
set datafile missing "n/a"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set xtics nomirror
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set bmargin 4
set label 1 "no orange bar: no figure (HAProxy 2.6 has no mirroring; the ceiling is an L2 forwarder, not a proxy)" at screen 0.01, screen 0.012 font ",9"
set multiplot layout 2,1 title heading font ",12"
set title "requests/s (higher is better)"
set ylabel "requests/s"
set format y "%.0s%c"
plot data using 2:xtic(1) title "no mirror" lc rgb "#3b6ea8", \
     '' using 3 title "mirror 100%" lc rgb "#e0913a", \
     '' using ($0 - 1.0/6):2:(sprintf("%.1fk", $2 / 1000)) with labels offset 0,0.6 notitle, \
     '' using ($0 + 1.0/6):3:(sprintf("%.1fk", $3 / 1000)) with labels offset 0,0.6 notitle
unset label 1
set title "p99 latency (lower is better)"
set ylabel "ms"
set format y "%g"
plot data using 4:xtic(1) title "no mirror" lc rgb "#3b6ea8", \
     '' using 5 title "mirror 100%" lc rgb "#e0913a", \
     '' using ($0 - 1.0/6):4:(sprintf("%.2f", $4)) with labels offset 0,0.6 notitle, \
     '' using ($0 + 1.0/6):5:(sprintf("%.2f", $5)) with labels offset 0,0.6 notitle
unset multiplot
