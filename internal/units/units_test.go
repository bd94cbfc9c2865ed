package units

import (
	"encoding/json"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "10m", want: 10 * time.Minute},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "0.5d", want: 12 * time.Hour},
		{in: "", bad: true},
		{in: "d", bad: true},
		{in: "7days", bad: true},
		{in: "-1d", bad: true},
		{in: "1d-2h", bad: true},
		{in: "10", bad: true},
		{in: "-5s", bad: true},
		{in: "99999999999999d", bad: true},
	} {
		got, err := ParseDuration(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "512", want: 512},
		{in: "64KiB", want: 64 << 10},
		{in: "8MiB", want: 8 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "1.5MB", want: 1500000},
		{in: "2 MiB", want: 2 << 20},
		{in: "64k", want: 64 << 10},
		{in: "", bad: true},
		{in: "MiB", bad: true},
		{in: "-1", bad: true},
		{in: "8 furlongs", bad: true},
		{in: "1e30GiB", bad: true},
	} {
		got, err := ParseBytes(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseBytes(%q) = %v, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	var y struct {
		A Duration `yaml:"a"`
		B Duration `yaml:"b"`
		S Bytes    `yaml:"s"`
		N Bytes    `yaml:"n"`
	}
	if err := yaml.Unmarshal([]byte("a: 7d\nb: 90\ns: 8MiB\nn: 4096\n"), &y); err != nil {
		t.Fatal(err)
	}
	if y.A.D() != 7*24*time.Hour || y.B.D() != 90*time.Second || y.S.N() != 8<<20 || y.N.N() != 4096 {
		t.Errorf("yaml decode = %+v", y)
	}
	if err := yaml.Unmarshal([]byte("a: soon\n"), &y); err == nil {
		t.Error("yaml: bad duration accepted")
	}
	var j struct {
		A Duration `json:"a"`
		S Bytes    `json:"s"`
	}
	if err := json.Unmarshal([]byte(`{"a":"10m","s":"64KiB"}`), &j); err != nil {
		t.Fatal(err)
	}
	if j.A.D() != 10*time.Minute || j.S.N() != 64<<10 {
		t.Errorf("json decode = %+v", j)
	}
	out, _ := json.Marshal(j)
	if string(out) != `{"a":"10m0s","s":"64KiB"}` {
		t.Errorf("json encode = %s", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"7d", "1d12h", "30s", "8MiB", "1.5MB", "", "d", "1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDuration(s); err == nil && d < 0 {
			t.Errorf("ParseDuration(%q) = %v < 0", s, d)
		}
		if b, err := ParseBytes(s); err == nil && b < 0 {
			t.Errorf("ParseBytes(%q) = %v < 0", s, b)
		}
	})
}
