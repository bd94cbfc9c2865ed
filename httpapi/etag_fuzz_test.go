package httpapi

import (
	"strconv"
	"testing"
)

// FuzzParseETag: no input panics; what is accepted is * (0) or one
// positive version whose plain form reads back the same.
func FuzzParseETag(f *testing.F) {
	for _, s := range []string{`"3"`, `W/"3"`, `3`, `*`, ` "12" `, `"1", "2"`, `""`, `"-1"`, `"0"`, `W/`, `"9223372036854775808"`, `"3`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseETag(s)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("%q read as version %d", s, v)
		}
		if v == 0 {
			return // *
		}
		again, err := parseETag(`"` + strconv.FormatInt(v, 10) + `"`)
		if err != nil || again != v {
			t.Fatalf("%q read as %d, its entity tag as %d %v", s, v, again, err)
		}
	})
}

func TestParseETag(t *testing.T) {
	for in, want := range map[string]int64{`"3"`: 3, `W/"3"`: 3, `3`: 3, `*`: 0, ` "12" `: 12} {
		if got, err := parseETag(in); err != nil || got != want {
			t.Errorf("parseETag(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{`"1", "2"`, `""`, `"0"`, `"-1"`, `"abc"`, `W/`, `"9223372036854775808"`} {
		if v, err := parseETag(in); err == nil {
			t.Errorf("parseETag(%q) = %d, want an error", in, v)
		}
	}
}
