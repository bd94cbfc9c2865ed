package metrics

import (
	"strconv"
	"strings"
	"testing"
)

func TestStatmResident(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"2956 1536 1088 420 0 488 0\n", 1536},
		{"10 7", 7},
		{"10", 0},
		{"", 0},
	} {
		if got := statmResident([]byte(tc.in)); got != tc.want {
			t.Errorf("statmResident(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzStatmResident: the hand-made field reader agrees with
// strings.Fields on what the kernel writes (numbers and single spaces).
func FuzzStatmResident(f *testing.F) {
	f.Add(uint32(2956), uint32(1536), uint32(1088))
	f.Fuzz(func(t *testing.T, a, b, c uint32) {
		line := strconv.FormatUint(uint64(a), 10) + " " + strconv.FormatUint(uint64(b), 10) + " " + strconv.FormatUint(uint64(c), 10) + " 0 0\n"
		want, _ := strconv.ParseUint(strings.Fields(line)[1], 10, 64)
		if got := statmResident([]byte(line)); got != want {
			t.Fatalf("statmResident(%q) = %d, want %d", line, got, want)
		}
	})
}
