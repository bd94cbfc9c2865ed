//go:build ignore

// Benchmed reads `go test -bench CronNext -count N` output on stdin and
// prints, per expression and zone, the median ns/op of edgecron and of each
// peer, and edgecron's ratio to the faster peer (the target is <= 1.10).
//
//	go test -run '^$' -bench CronNext -benchmem -count 6 ./sched | go run ./sched/testdata/triggers/benchmed.go
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^BenchmarkCronNext/(\S+)/(\S+)/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+(\d+) B/op\s+(\d+) allocs/op)?`)

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func main() {
	type key struct{ expr, zone, impl string }
	runs := map[key][]float64{}
	allocs := map[key]string{}
	var order []key
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		k := key{m[1], m[2], m[3]}
		if _, ok := runs[k]; !ok {
			order = append(order, k)
		}
		v, _ := strconv.ParseFloat(m[4], 64)
		runs[k] = append(runs[k], v)
		allocs[k] = m[6]
	}
	fmt.Println("| expression | zone | edgecron ns/op (allocs) | robfig ns/op | cronexpr ns/op | ratio to the faster peer |")
	fmt.Println("|---|---|---|---|---|---|")
	seen := map[[2]string]bool{}
	for _, k := range order {
		ez := [2]string{k.expr, k.zone}
		if seen[ez] {
			continue
		}
		seen[ez] = true
		med := func(impl string) (float64, bool) {
			v, ok := runs[key{k.expr, k.zone, impl}]
			if !ok {
				return 0, false
			}
			return median(v), true
		}
		ours, _ := med("edgecron")
		cells := []string{k.expr, k.zone, fmt.Sprintf("%.1f (%s)", ours, allocs[key{k.expr, k.zone, "edgecron"}])}
		best := 0.0
		for _, peer := range []string{"robfig", "cronexpr"} {
			if v, ok := med(peer); ok {
				cells = append(cells, fmt.Sprintf("%.1f", v))
				if best == 0 || v < best {
					best = v
				}
			} else {
				cells = append(cells, "—")
			}
		}
		cells = append(cells, fmt.Sprintf("%.2f×", ours/best))
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
	}
}
