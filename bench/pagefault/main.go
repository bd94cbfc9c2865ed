// Command pagefault prints what this machine charges a new process for
// each page of memory it touches the first time: it allocates 8 MiB,
// writes one byte into each page, and prints the microseconds per page.
// scripts/bench.sh startup runs it beside BenchmarkStartup10k, whose
// agent touches a few thousand pages more than the store's own load
// does (docs/performance.md). It is not part of the agent binary.
//
//	go run ./bench/pagefault
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	page := os.Getpagesize()
	start := time.Now()
	b := make([]byte, 8<<20) // new to the process: the runtime maps it from the system
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	d := time.Since(start)
	fmt.Printf("%.2f\n", float64(d.Microseconds())/float64(len(b)/page))
}
