package mqtt

import (
	"testing"
	"time"
)

// TestBackoff: the wait after the n-th failure doubles from Min up to Max
// and is drawn from [d/2, d].
func TestBackoff(t *testing.T) {
	a := &Agent{deps: Deps{Backoff: Backoff{Min: time.Second, Max: 8 * time.Second}}}
	caps := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for n, d := range caps {
		lo, hi := d, time.Duration(0)
		for range 200 {
			w := a.backoff(n + 1)
			lo, hi = min(lo, w), max(hi, w)
			if w < d/2 || w > d {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n+1, w, d/2, d)
			}
		}
		if hi-lo < d/8 {
			t.Errorf("backoff(%d) has no jitter: %s..%s", n+1, lo, hi)
		}
	}
}

func TestTopics(t *testing.T) {
	tp := NewTopics("edgecron", "gh-1")
	if tp.Cmd() != "edgecron/gh-1/jobs/cmd" || tp.GroupCmd("g") != "edgecron/groups/g/jobs/cmd" ||
		tp.Job("pump") != "edgecron/gh-1/jobs/pump" || tp.ActuatorSet("+") != "edgecron/gh-1/actuators/+/set" {
		t.Fatalf("topics: %+v", tp)
	}
	for topic, want := range map[string]string{
		"edgecron/gh-1/actuators/pump/set":   "pump",
		"edgecron/gh-1/actuators/a/b/set":    "",
		"edgecron/gh-1/actuators//set":       "",
		"edgecron/gh-2/actuators/pump/set":   "",
		"edgecron/gh-1/actuators/pump/state": "",
	} {
		got, ok := tp.actuatorFromSet(topic)
		if got != want || ok != (want != "") {
			t.Errorf("actuatorFromSet(%s) = %q %v", topic, got, ok)
		}
	}
}
