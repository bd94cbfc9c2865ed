package metrics

import (
	"runtime"
	"runtime/metrics"
)

// goSamples are the runtime's own figures read at a scrape, without
// stopping the world as runtime.ReadMemStats would.
var goSamples = [...]string{
	"/memory/classes/heap/objects:bytes", // live and not yet swept objects
	"/memory/classes/total:bytes",        // everything the runtime mapped
	"/gc/cycles/total:gc-cycles",
}

// registerProcess adds the Go runtime's series and, where the system has
// them, the process's (process_linux.go).
func (m *Metrics) registerProcess() {
	m.set.NewGauge("go_goroutines", func() float64 { return float64(runtime.NumGoroutine()) })
	heap := m.set.NewGauge("go_memstats_heap_alloc_bytes", nil)
	sys := m.set.NewGauge("go_memstats_sys_bytes", nil)
	gc := m.set.NewCounter("go_gc_cycles_total")
	m.onScrape(func() {
		var s [len(goSamples)]metrics.Sample
		for i, n := range goSamples {
			s[i].Name = n
		}
		metrics.Read(s[:])
		heap.Set(float64(uint64Of(s[0])))
		sys.Set(float64(uint64Of(s[1])))
		gc.Set(uint64Of(s[2]))
	})
	m.set.NewGauge("process_start_time_seconds", nil).Set(float64(m.src.Start.Unix()))
	m.registerOS()
}

func uint64Of(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0 // not in this Go release
	}
	return s.Value.Uint64()
}
