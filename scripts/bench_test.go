package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchAggregator feeds scripts/benchagg.awk, the aggregator of
// scripts/bench.sh, rounds whose medians and spreads are known.
func TestBenchAggregator(t *testing.T) {
	tests := []struct {
		name, rows, peer string
		want             []string
	}{
		{
			name: "odd rounds: the middle ratio, and the spread",
			rows: "1 10 20\n2 12 10\n3 11 11\n", peer: "robfig",
			want: []string{"edgecron 11.00 ns, robfig 11.00 ns: ratio 1.00 (spread 0.50-1.20, 3 rounds)", "difference 0 ns (spread -10.00 to 2.00)"},
		},
		{
			name: "even rounds: the mean of the middle two",
			rows: "1 10 20\n2 12 10\n3 11 11\n4 30 10\n", peer: "robfig",
			want: []string{"edgecron 11.50 ns, robfig 10.50 ns: ratio 1.10 (spread 0.50-3.00, 4 rounds)", "difference 1.00 ns"},
		},
		{
			name: "a ratio given per round is taken as it is",
			rows: "1 70 25 2.5\n2 60 30 2.1\n3 66 30 2.3\n", peer: "store",
			want: []string{"ratio 2.30 (spread 2.10-2.50, 3 rounds)"},
		},
		{
			name: "no peer: median and spread of edgecron alone",
			rows: "1 95 -\n2 120 -\n3 101 -\n",
			want: []string{"edgecron 101.0 ns (spread 95.00-120.0 ns, 3 rounds)"},
		},
		{
			name: "large figures print whole",
			rows: "1 632023 3395\n2 640000 3400\n",
			want: []string{"edgecron 636012 ns, robfig 3398 ns: ratio 187.", "2 rounds"},
			peer: "robfig",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "summary")
			cmd := exec.Command("awk", "-v", "title=t", "-v", "pname="+tc.peer, "-v", "unit=ns", "-v", "summary="+summary, "-f", "benchagg.awk")
			cmd.Stdin = strings.NewReader(tc.rows)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("awk: %v\n%s", err, out)
			}
			sum, err := os.ReadFile(summary)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) || !strings.Contains(string(sum), w) {
					t.Errorf("want %q in the output and the summary; output:\n%s\nsummary: %s", w, out, sum)
				}
			}
		})
	}
	for _, tc := range []struct{ name, rows, want string }{
		{"no rounds", "", "no rounds"},
		{"a round without edgecron's figure", "1 10 20\n2 ? 20\n3 11 21\n", "round 2 has no figure"},
		{"a round without the peer's figure", "1 10 20\n2 12 ?\n", "round 2 has no figure"},
		{"a round with nothing", "1 10 -\n2\n", "round 2 has no figure"},
	} {
		t.Run(tc.name+" is an error", func(t *testing.T) {
			cmd := exec.Command("awk", "-v", "title=t", "-f", "benchagg.awk")
			cmd.Stdin = strings.NewReader(tc.rows)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "median") {
				t.Errorf("%q: %v\n%s\nwant an error saying %q and no median", tc.rows, err, out, tc.want)
			}
		})
	}
}

// TestBenchRefuses checks that bench.sh names a section it does not know
// and a bad ROUNDS before it builds or runs anything.
func TestBenchRefuses(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"crowded", "nosuch"}, "unknown section 'nosuch'"},
		{[]string{"ROUNDS=1"}, []string{"crowded"}, "ROUNDS=1: want a whole number of at least 2"},
		{[]string{"ROUNDS=x"}, []string{"crowded"}, "ROUNDS=x"},
	} {
		text, code := run(t, nil, tc.env, "scripts/bench.sh", tc.args...)
		if code != 2 || !strings.Contains(text, tc.want) {
			t.Errorf("bench.sh %v %v: exit %d\n%s\nwant exit 2 and %q", tc.env, tc.args, code, text, tc.want)
		}
	}
}
