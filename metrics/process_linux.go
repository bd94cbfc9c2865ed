package metrics

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// registerOS adds the process's CPU time, resident memory and open files,
// read at a scrape from getrusage(2) and /proc/self.
func (m *Metrics) registerOS() {
	cpu := m.set.NewFloatCounter("process_cpu_seconds_total")
	rss := m.set.NewGauge("process_resident_memory_bytes", nil)
	fds := m.set.NewGauge("process_open_fds", nil)
	page := float64(os.Getpagesize())
	m.onScrape(func() {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			cpu.Set(seconds(ru.Utime) + seconds(ru.Stime))
		}
		if b, err := os.ReadFile("/proc/self/statm"); err == nil {
			rss.Set(float64(statmResident(b)) * page)
		}
		if n, err := openFDs(); err == nil {
			fds.Set(float64(n))
		}
	})
}

func seconds(t syscall.Timeval) float64 {
	return float64(t.Sec) + float64(t.Usec)/1e6
}

// statmResident returns the second field of /proc/self/statm: the pages
// resident in memory (0 when it does not read).
func statmResident(b []byte) uint64 {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseUint(string(f[1]), 10, 64)
	return n
}

// openFDs counts the process's open file descriptors, less the one that
// reads them.
func openFDs() (int, error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return len(names) - 1, err
}
