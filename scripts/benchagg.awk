# benchagg.awk: the aggregator of scripts/bench.sh. It reads one line per
# round, "ROUND EDGECRON PEER [RATIO]", and prints the rounds, each with its
# ratio EDGECRON/PEER (or the RATIO given, when the benchmark computed one
# per round itself) and difference EDGECRON-PEER, then the medians and the
# spread (min-max) of the ratio and of the difference over the rounds. PEER "-" means there is
# no peer: the line then gives the median and spread of EDGECRON alone.
# A figure that is not a number (a benchmark that printed none) fails the
# whole report: no median is made of the rounds that remain.
#
#   awk -v title=T -v ename=edgecron -v pname=robfig -v unit=ns [-v summary=FILE] -f benchagg.awk
#
# With summary=FILE it also appends one line for the end-of-run summary.
# Medians of an even count are the mean of the middle two. Numbers are
# printed with four significant digits or whole.

function num(x) {
	if (x == "-") return x
	x += 0
	if (x < 0) return "-" num(-x)
	if (x >= 1000) return sprintf("%.0f", x)
	if (x >= 100) return sprintf("%.1f", x)
	if (x >= 1) return sprintf("%.2f", x)
	return sprintf("%.3g", x)
}

function median(a, n,    s, i, j, t) {
	for (i = 1; i <= n; i++) s[i] = a[i] + 0
	for (i = 2; i <= n; i++) {
		t = s[i]
		for (j = i - 1; j >= 1 && s[j] > t; j--) s[j + 1] = s[j]
		s[j + 1] = t
	}
	if (n % 2) return s[(n + 1) / 2]
	return (s[n / 2] + s[n / 2 + 1]) / 2
}

function lo(a, n,    i, m) { m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
function hi(a, n,    i, m) { m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }

BEGIN {
	if (ename == "") ename = "edgecron"
	if (pname == "") pname = "-"
	if (unit != "") u = " " unit
	n = 0
}

function isnum(x) { return x ~ /^-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ }

NF >= 1 && $1 !~ /^#/ {
	if (NF < 2 || !isnum($2) || (NF >= 3 && $3 != "-" && !isnum($3)) || (NF >= 4 && !isnum($4))) {
		printf "%s: round %s has no figure (%s): the benchmark printed none\n", title, $1, $0
		if (summary != "") printf "%-44s round %s has no figure\n", title, $1 >> summary
		bad = 1
		exit 1
	}
	n++
	round[n] = $1
	e[n] = $2
	p[n] = (NF >= 3) ? $3 : "-"
	if (p[n] == "-") next
	peer = 1
	if (NF >= 4) r[n] = $4 + 0
	else if ($3 + 0 != 0) r[n] = ($2 + 0) / ($3 + 0)
	else r[n] = 0
	d[n] = $2 - $3
}

END {
	if (bad) exit 1
	if (n == 0) {
		printf "%s: no rounds (the benchmark printed nothing)\n", title
		if (summary != "") printf "%-44s no rounds\n", title >> summary
		exit 1
	}
	printf "%s\n", title
	if (!peer) {
		printf "  %-8s %14s\n", "round", ename
		for (i = 1; i <= n; i++) printf "  %-8s %14s\n", round[i], num(e[i])
		me = median(e, n)
		line = sprintf("%s %s%s (spread %s-%s%s, %d rounds)", ename, num(me), u, num(lo(e, n)), num(hi(e, n)), u, n)
		printf "  median   %s\n", line
		if (summary != "") printf "%-44s %s\n", title, line >> summary
		exit 0
	}
	printf "  %-8s %14s %14s %8s %12s\n", "round", ename, pname, "ratio", "difference"
	for (i = 1; i <= n; i++)
		printf "  %-8s %14s %14s %8s %12s\n", round[i], num(e[i]), num(p[i]), sprintf("%.2f", r[i]), num(d[i])
	line = sprintf("%s %s%s, %s %s%s: ratio %.2f (spread %.2f-%.2f, %d rounds), difference %s%s (spread %s to %s)", \
		ename, num(median(e, n)), u, pname, num(median(p, n)), u, median(r, n), lo(r, n), hi(r, n), n, \
		num(median(d, n)), u, num(lo(d, n)), num(hi(d, n)))
	printf "  median   %s\n", line
	if (summary != "") printf "%-44s %s\n", title, line >> summary
}
