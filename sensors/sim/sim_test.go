package sim

import (
	"context"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sensors"
)

func readN(t *testing.T, s *Sensor, n int) [][]sensors.Value {
	t.Helper()
	var out [][]sensors.Value
	for range n {
		v, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestDeterministicAndPlausible(t *testing.T) {
	at := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	now := func() time.Time { return at }
	tests := []struct {
		c     sensors.Config
		names []string
		lo    []float64
		hi    []float64
	}{
		{sensors.Config{Name: "air", Driver: "bme280"}, []string{"temperature", "pressure", "humidity"}, []float64{15, 1000, 20}, []float64{30, 1030, 80}},
		{sensors.Config{Name: "probe", Driver: "ds18b20"}, []string{"temperature"}, []float64{10, 0}, []float64{25, 0}},
		{sensors.Config{Name: "soil", Driver: "ads1115", Quantity: "moisture", Unit: "%"}, []string{"moisture"}, []float64{0}, []float64{3.3}},
		{sensors.Config{Name: "rain", Driver: "gpio", Mode: "counter"}, []string{"pulses", "pulses_total"}, []float64{0, 0}, []float64{5, 100}},
		{sensors.Config{Name: "door", Driver: "gpio"}, []string{"state"}, []float64{0}, []float64{1}},
	}
	for _, tt := range tests {
		a := readN(t, New(tt.c, 42, now), 20)
		b := readN(t, New(tt.c, 42, now), 20)
		other := readN(t, New(tt.c, 43, now), 20)
		same := true
		for i := range a {
			for j, v := range a[i] {
				if v != b[i][j] {
					t.Fatalf("%s: same seed gave %v then %v", tt.c.Name, v, b[i][j])
				}
				if v.Name != tt.names[j] || v.Value < tt.lo[j] || v.Value > tt.hi[j] {
					t.Fatalf("%s: implausible %+v", tt.c.Name, v)
				}
				if v != other[i][j] {
					same = false
				}
			}
		}
		if same && tt.c.Driver != "gpio" {
			t.Errorf("%s: seeds 42 and 43 gave the same series", tt.c.Name)
		}
	}
}

func TestDailyCycle(t *testing.T) {
	c := sensors.Config{Name: "air", Driver: "ds18b20"}
	at := func(h int) float64 {
		s := New(c, 7, func() time.Time { return time.Date(2026, 6, 1, h, 0, 0, 0, time.UTC) })
		v, _ := s.Read(context.Background())
		return v[0].Value
	}
	if night, noon := at(3), at(15); noon-night < 5 {
		t.Fatalf("03:00 %v, 15:00 %v: no daily swing", night, noon)
	}
}
