package metrics

import (
	"os"
	"syscall"
)

// registerOS adds the process's CPU time, resident memory and open files,
// read at a scrape from getrusage(2) and /proc/self.
func (p *process) registerOS(s *set) {
	p.cpu = s.newFloatCounter("process_cpu_seconds_total")
	p.rss = s.newGauge("process_resident_memory_bytes", nil)
	p.fds = s.newGauge("process_open_fds", nil)
}

func (p *process) scrapeOS() {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		p.cpu.Set(seconds(ru.Utime) + seconds(ru.Stime))
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		p.rss.Set(float64(statmResident(b) * uint64(os.Getpagesize())))
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, _ := d.Readdirnames(-1)
		d.Close()
		p.fds.Set(float64(len(names) - 1)) // less the one that reads them
	}
}

func seconds(t syscall.Timeval) float64 {
	return float64(t.Sec) + float64(t.Usec)/1e6
}

// statmResident returns the second field of /proc/self/statm: the pages
// resident in memory (0 when it does not read).
func statmResident(b []byte) uint64 {
	var n uint64
	field := 0
	for _, c := range b {
		switch {
		case c == ' ':
			if field++; field > 1 {
				return n
			}
		case field == 1 && c >= '0' && c <= '9':
			n = n*10 + uint64(c-'0')
		}
	}
	return n
}
