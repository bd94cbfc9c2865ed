package metrics

import (
	"runtime"
	"time"
)

// process is the Go runtime's and the process's own series, read at a
// scrape.
type process struct {
	heap, sys, rss, fds *gauge
	gc                  *counter
	cpu                 *floatCounter
}

func (p *process) register(s *set, start time.Time) {
	s.newGauge("go_goroutines", func() float64 { return float64(runtime.NumGoroutine()) })
	p.heap = s.newGauge("go_memstats_heap_alloc_bytes", nil)
	p.sys = s.newGauge("go_memstats_sys_bytes", nil)
	p.gc = s.newCounter("go_gc_cycles_total")
	s.newGauge("process_start_time_seconds", nil).Set(float64(start.Unix()))
	p.registerOS(s)
}

func (p *process) scrape() {
	// It stops the world for a few microseconds on the agent's small
	// heap, once a scrape.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.heap.Set(float64(ms.HeapAlloc))
	p.sys.Set(float64(ms.Sys))
	p.gc.Set(uint64(ms.NumGC))
	p.scrapeOS()
}
