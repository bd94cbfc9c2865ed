package lazyre

import "testing"

func TestRegexp(t *testing.T) {
	r := New(`^a(\d+)$`)
	if r.re != nil {
		t.Fatal("compiled before first use")
	}
	if !r.MatchString("a12") || r.MatchString("b12") {
		t.Error("MatchString")
	}
	if m := r.FindStringSubmatch("a7"); len(m) != 2 || m[1] != "7" {
		t.Errorf("FindStringSubmatch = %q", m)
	}
	if got := r.ReplaceAllString("a3", "x$1"); got != "x3" {
		t.Errorf("ReplaceAllString = %q", got)
	}
	if r.String() != `^a(\d+)$` {
		t.Errorf("String = %q", r.String())
	}
}

func TestBadExpressionPanicsOnFirstUse(t *testing.T) {
	r := New(`(`)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	r.MatchString("x")
}
