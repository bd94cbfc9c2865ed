package sensors

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/internal/units"
)

// Publish is a sensor's publish filter (docs/hardware.md, "Publishing on
// change"): which readings go to MQTT. It never changes a reading: what
// jobs, automations and conditions see, and the read job's result, are
// every reading, smoothed by the sensor's filter.
type Publish struct {
	// OnChange publishes a reading only when one of its values moved by
	// more than Deadband from the last published reading (any change when
	// Deadband is zero).
	OnChange bool     `yaml:"on_change,omitempty"`
	Deadband Deadband `yaml:"deadband,omitempty"`
	// Heartbeat publishes a reading, changed or not, when the last
	// published one is at least this old.
	Heartbeat units.Duration `yaml:"heartbeat,omitempty"`
}

// Deadband is an absolute amount in the value's unit (0.5) or, Relative,
// a percentage of the last published value ("2%").
type Deadband struct {
	Amount   float64
	Relative bool
}

// ParseDeadband parses "0.5" (absolute) or "2%" (relative): a finite,
// non-negative number.
func ParseDeadband(s string) (Deadband, error) {
	t := strings.TrimSpace(s)
	rel := strings.HasSuffix(t, "%")
	if rel {
		t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Deadband{}, fmt.Errorf("invalid deadband %q: want a number in the value's unit (0.5) or a percentage of the last published value (2%%)", s)
	}
	if v < 0 {
		return Deadband{}, fmt.Errorf("invalid deadband %q: must not be negative", s)
	}
	return Deadband{Amount: v, Relative: rel}, nil
}

// String is the deadband as the config writes it.
func (d Deadband) String() string {
	s := strconv.FormatFloat(d.Amount, 'g', -1, 64)
	if d.Relative {
		s += "%"
	}
	return s
}

// IsZero reports an unset deadband (yaml omitempty).
func (d Deadband) IsZero() bool { return d == Deadband{} }

// UnmarshalYAML reads 0.5 or "2%". A bad value is a *yaml.TypeError
// ("line L column C: ..."), so the decoder goes on to report the config's
// other problems.
func (d *Deadband) UnmarshalYAML(n *yaml.Node) error {
	var err error
	if n.Kind != yaml.ScalarNode {
		err = fmt.Errorf("invalid deadband: want a number in the value's unit (0.5) or a percentage of the last published value (2%%)")
	} else {
		*d, err = ParseDeadband(n.Value)
	}
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d column %d: %v", n.Line, n.Column, err)}}
	}
	return nil
}

// MarshalYAML writes the config's form.
func (d Deadband) MarshalYAML() (any, error) { return d.String(), nil }

// check validates the publish keys.
func (p Publish) check() error {
	if p.OnChange {
		return nil
	}
	if !p.Deadband.IsZero() {
		return Keyf("publish.deadband", "applies only with publish.on_change: true")
	}
	if p.Heartbeat != 0 {
		return Keyf("publish.heartbeat", "applies only with publish.on_change: true (without it every reading is published)")
	}
	return nil
}

// moved reports whether v moved from last by more than the deadband.
func (d Deadband) moved(last, v float64) bool {
	band := d.Amount
	if d.Relative {
		band = d.Amount / 100 * math.Abs(last)
	}
	return math.Abs(v-last) > band
}

// publishGate is a sensor's publish filter with the last reading it let
// through. It is safe for concurrent use.
type publishGate struct {
	p Publish

	mu   sync.Mutex
	sent bool // a reading was let through
	at   time.Time
	last []Value
}

func newPublishGate(p Publish) *publishGate { return &publishGate{p: p} }

// pass reports whether r goes to MQTT, and if so remembers it as the last
// published reading. Without on_change every reading passes. With it, a
// reading passes when it is the first, when the heartbeat is due (the
// last published one is at least heartbeat older, or newer than r: the
// wall clock stepped back), when its values are not those of the last
// published one (a value came or went), or when one of them moved by more
// than the deadband.
func (g *publishGate) pass(r Reading) bool {
	if !g.p.OnChange {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.due(r) {
		g.sent, g.at = true, r.Time
		g.last = append(g.last[:0], r.Values...)
		return true
	}
	return false
}

func (g *publishGate) due(r Reading) bool {
	if !g.sent || len(r.Values) != len(g.last) {
		return true
	}
	if hb := g.p.Heartbeat.D(); hb > 0 {
		if age := r.Time.Sub(g.at); age >= hb || age < 0 {
			return true
		}
	}
	for i, v := range r.Values {
		if v.Name != g.last[i].Name || g.p.Deadband.moved(g.last[i].Value, v.Value) {
			return true
		}
	}
	return false
}
