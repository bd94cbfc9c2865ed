// Command storeload is the store layer alone, as a process: it opens a
// store file read-only (as `edgecron db check` does, so that it changes
// nothing the agent reads at its next start), loads its jobs (each
// decoded and handed over, as the agent's scheduler takes them) and exits,
// printing how many. It is the fresh-process floor beside which
// BenchmarkStartup10k (cmd/agent) times the agent: both pay a process start, the Go runtime's initialisation and
// a heap grown from nothing, which a load inside the benchmark's own,
// already warm process does not. It is not part of the agent binary.
//
//	go run ./bench/storeload STORE-FILE
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: storeload STORE-FILE")
		os.Exit(2)
	}
	s, err := store.Open(os.Args[1], store.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "storeload:", err)
		os.Exit(1)
	}
	jobs := 0
	err = s.Load(context.Background(), func(*sched.Job) error { jobs++; return nil })
	if err == nil {
		err = s.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storeload:", err)
		os.Exit(1)
	}
	fmt.Println(jobs)
}
