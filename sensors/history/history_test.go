package history

import (
	"encoding/binary"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

type add struct {
	sec int
	v   float64
}

func TestRing(t *testing.T) {
	base := t0.Unix()
	for _, tc := range []struct {
		name   string
		points int
		adds   []add
		times  []int64 // seconds after t0
		values []float32
	}{
		{"empty", 4, nil, nil, nil},
		{"one reading", 4, []add{{5, 20}}, []int64{0}, []float32{20}},
		{"a bucket is the mean of its readings", 4,
			[]add{{0, 20}, {10, 21}, {59, 25}, {60, 30}}, []int64{0, 60}, []float32{22, 30}},
		{"a slice without readings takes no bucket", 4,
			[]add{{0, 1}, {3600, 2}}, []int64{0, 3600}, []float32{1, 2}},
		{"a full ring drops its oldest bucket", 3,
			[]add{{0, 1}, {60, 2}, {120, 3}, {180, 4}, {240, 5}}, []int64{120, 180, 240}, []float32{3, 4, 5}},
		{"the newest bucket keeps filling after a wrap", 3,
			[]add{{0, 1}, {60, 2}, {120, 3}, {180, 4}, {181, 6}}, []int64{60, 120, 180}, []float32{2, 3, 5}},
		{"a late reading from the bucket before counts in the newest", 4,
			[]add{{0, 1}, {60, 2}, {59, 4}}, []int64{0, 60}, []float32{1, 3}},
		{"a step back clears the ring", 4,
			[]add{{0, 1}, {60, 2}, {120, 3}, {-3600, 7}}, []int64{-3600}, []float32{7}},
		{"not a number is ignored", 4,
			[]add{{0, 1}, {1, math.NaN()}, {2, math.Inf(1)}, {3, math.Inf(-1)}}, []int64{0}, []float32{1}},
		{"a time before 1970 is ignored", 4,
			[]add{{0, 1}, {int(-base - 1), 5}}, []int64{0}, []float32{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(time.Minute, tc.points)
			for _, a := range tc.adds {
				s.Add("s", "temperature", "°C", at(a.sec), a.v)
			}
			got := s.Series("s")
			if len(tc.times) == 0 {
				if got != nil {
					t.Fatalf("Series = %+v, want none", got)
				}
				return
			}
			want := Series{Name: "temperature", Unit: "°C", Values: tc.values}
			for _, sec := range tc.times {
				want.Times = append(want.Times, base+sec)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Fatalf("Series = %+v\nwant %+v", got, []Series{want})
			}
		})
	}
}

func TestValuesKeepTheirOrder(t *testing.T) {
	s := New(0, 0)
	if s.Step() != DefaultStep {
		t.Errorf("Step = %v, want %v", s.Step(), DefaultStep)
	}
	s.Add("bme", "temperature", "°C", t0, 21)
	s.Add("bme", "humidity", "%", t0, 40)
	s.Add("bme", "temperature", "°C", t0.Add(time.Minute), 22)
	s.Add("other", "v", "", t0, 1)
	got := s.Series("bme")
	if len(got) != 2 || got[0].Name != "temperature" || got[1].Name != "humidity" || len(got[0].Times) != 2 || len(got[1].Times) != 1 {
		t.Fatalf("Series = %+v", got)
	}
	// A copy: changing it changes nothing in the store.
	got[0].Values[0] = 99
	if again := s.Series("bme"); again[0].Values[0] != 21 {
		t.Errorf("the store's values changed with the copy: %v", again[0].Values)
	}
	if s.Series("nope") != nil {
		t.Error("a sensor without readings has a history")
	}
	s.Retain([]string{"other", "gone"})
	if s.Series("bme") != nil || s.Series("other") == nil {
		t.Errorf("after Retain(other): bme %v, other %v", s.Series("bme"), s.Series("other"))
	}
}

// TestBounded feeds a week of readings every 10 s: the ring never holds
// more than its points, nor allocates beyond them.
func TestBounded(t *testing.T) {
	s := New(time.Minute, DefaultPoints)
	for sec := 0; sec < 7*24*3600; sec += 10 {
		s.Add("s", "v", "", at(sec), float64(sec))
	}
	r := s.sensors["s"][0]
	if len(r.times) != DefaultPoints || cap(r.times) != DefaultPoints || cap(r.vals) != DefaultPoints {
		t.Fatalf("ring len %d cap %d/%d, want %d", len(r.times), cap(r.times), cap(r.vals), DefaultPoints)
	}
	got := s.Series("s")[0]
	end := t0.Unix() + 7*24*3600
	if first, last := got.Times[0], got.Times[len(got.Times)-1]; last != end-60 || first != end-60*DefaultPoints {
		t.Errorf("span %d..%d, want the last %d minutes before %d", first, last, DefaultPoints, end)
	}
}

func TestConcurrent(t *testing.T) {
	s := New(time.Second, 8)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				s.Add("s", "v", "", at(i), float64(g))
				_ = s.Series("s")
			}
		}()
	}
	wg.Wait()
	if got := s.Series("s")[0]; len(got.Times) != 8 {
		t.Errorf("%d points, want 8", len(got.Times))
	}
}

// FuzzAdd adds readings at arbitrary times: whatever their order, a
// series' times strictly increase, by whole steps, and there are never
// more than the points.
func FuzzAdd(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 4, 5})
	f.Add([]byte{10, 9, 8, 7, 255, 0})
	f.Fuzz(func(t *testing.T, deltas []byte) {
		const points = 5
		s := New(10*time.Second, points)
		sec := 100000
		for i, d := range deltas {
			// Mostly forward, some back (d >= 200), by up to a few steps.
			if d >= 200 {
				sec -= int(d-200) * 3
			} else {
				sec += int(d) % 40
			}
			s.Add("s", "v", "", at(sec), float64(binary.LittleEndian.Uint16([]byte{d, byte(i)})))
		}
		got := s.Series("s")
		if len(deltas) == 0 {
			return
		}
		ts := got[0].Times
		if len(ts) == 0 || len(ts) > points || len(ts) != len(got[0].Values) {
			t.Fatalf("%d times, %d values", len(ts), len(got[0].Values))
		}
		for i, x := range ts {
			if x%10 != 0 || i > 0 && x <= ts[i-1] {
				t.Fatalf("times %v: not increasing whole steps", ts)
			}
		}
	})
}
