package registry

import (
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := New[int]("things", "example.com/things/drivers")
	if got := r.Known(); !strings.Contains(got, "none registered: import example.com/things/drivers") {
		t.Errorf("Known on empty = %q", got)
	}
	r.Register("b", 2)
	r.Register("a", 1)
	if d, ok := r.Lookup("a"); !ok || d != 1 {
		t.Errorf("Lookup(a) = %v, %v", d, ok)
	}
	if _, ok := r.Lookup("c"); ok {
		t.Error("Lookup(c) found something")
	}
	if got := r.Known(); got != "a, b" {
		t.Errorf("Known = %q", got)
	}
	for _, name := range []string{"a", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", name)
				}
			}()
			r.Register(name, 3)
		}()
	}
}
