package cputemp

import (
	"context"
	"testing"
)

func TestParseMilli(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"48312\n", 48.312, false},
		{"-5000", -5, false},
		{"0\n", 0, false},
		{"", 0, true},
		{"48.3\n", 0, true},
		{"hot", 0, true},
		{"99999999999", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseMilli([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseMilli(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseMilli(f *testing.F) {
	for _, s := range []string{"48312\n", "-1", "", "abc", "1e3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseMilli(b)
		if err == nil && (v > 2147483.647 || v < -2147483.648) {
			t.Fatalf("out of range %v", v)
		}
	})
}

func TestSensorReadsTestdata(t *testing.T) {
	s, err := New("testdata/sys/class/thermal/thermal_zone0/temp")
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 || v[0].Name != "temperature" || v[0].Value != 48.312 || v[0].Unit != "°C" {
		t.Fatalf("got %+v", v)
	}
	if _, err := New("testdata/nope"); err == nil {
		t.Fatal("missing file accepted")
	}
}
