package metrics

import (
	"runtime"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// process is the Go runtime's and the process's own series, read at a
// scrape.
type process struct {
	heap, sys, rss, fds *vm.Gauge
	gc                  *vm.Counter
	cpu                 *vm.FloatCounter
}

func (p *process) register(set *vm.Set, start time.Time) {
	set.NewGauge("go_goroutines", func() float64 { return float64(runtime.NumGoroutine()) })
	p.heap = set.NewGauge("go_memstats_heap_alloc_bytes", nil)
	p.sys = set.NewGauge("go_memstats_sys_bytes", nil)
	p.gc = set.NewCounter("go_gc_cycles_total")
	set.NewGauge("process_start_time_seconds", nil).Set(float64(start.Unix()))
	p.registerOS(set)
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
