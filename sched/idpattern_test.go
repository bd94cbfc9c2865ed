package sched

import (
	"regexp"
	"testing"
)

func FuzzIDPattern(f *testing.F) {
	re := regexp.MustCompile(IDPattern.String())
	for _, s := range []string{"", "a", "job-1", "a.b_c-D9", "cmd", "a b", "é", "a\n", "\x00",
		"0123456789012345678901234567890123456789012345678901234567890123",
		"01234567890123456789012345678901234567890123456789012345678901234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := re.MatchString(s)
		if got := IDPattern.MatchString(s); got != want {
			t.Errorf("MatchString(%q) = %v, the regexp says %v", s, got, want)
		}
		if got := IDPattern.Match([]byte(s)); got != want {
			t.Errorf("Match(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
