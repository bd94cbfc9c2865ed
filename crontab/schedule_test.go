package crontab

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/edgecron/edgecron/sched"
)

// TestConvertedSchedulesFireWhenCronWould compares the fire times of every
// converted entry with robfig/cron's reading of the original crontab
// schedule: the conversion must not change when a line runs.
func TestConvertedSchedulesFireWhenCronWould(t *testing.T) {
	for _, file := range []struct {
		name   string
		system bool
	}{{"pi.crontab", false}, {"system.crontab", true}} {
		f, err := os.Open(filepath.Join("testdata", file.name))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Convert(f, Options{System: file.system})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 11, 21, 9, 7, 0, 0, time.UTC) // a Saturday
		compared := 0
		for _, c := range res.Entries {
			if c.Boot {
				compared++ // @reboot: a boot trigger, no times to compare
				continue
			}
			loc := time.UTC
			if c.Timezone != "" {
				if loc, err = time.LoadLocation(c.Timezone); err != nil {
					t.Fatal(err)
				}
			}
			ref, err := cron.ParseStandard(c.Expr)
			if err != nil {
				t.Logf("line %d: robfig/cron cannot read %q (%v); not compared", c.Line, c.Expr, err)
				continue
			}
			got, err := sched.Preview(sched.TriggerSpec{Type: "cron", Expr: c.Expr, Timezone: c.Timezone}, sched.Env{Location: time.UTC}, from, 20)
			if err != nil {
				t.Fatalf("line %d: %v", c.Line, err)
			}
			next := from.In(loc).Add(-time.Second)
			for i, g := range got {
				next = ref.Next(next)
				if !g.Equal(next) {
					t.Errorf("line %d %q: fire %d at %s, cron says %s", c.Line, c.Expr, i, g, next)
					break
				}
			}
			compared++
		}
		// robfig/cron lacks cron's 7 for Sunday; check that one by hand.
		for _, c := range res.Entries {
			if c.Expr == "47 6 * * 7" {
				got, err := sched.Preview(sched.TriggerSpec{Type: "cron", Expr: c.Expr}, sched.Env{Location: time.UTC}, from, 1)
				if want := time.Date(2026, 11, 22, 6, 47, 0, 0, time.UTC); err != nil || !got[0].Equal(want) {
					t.Errorf("line %d %q: first fire %v (%v), want Sunday %s", c.Line, c.Expr, got, err, want)
				}
				compared++
			}
		}
		if compared != len(res.Entries) {
			t.Errorf("%s: compared %d of %d entries", file.name, compared, len(res.Entries))
		}
	}
}
