// Package units parses the human units used in the config file: durations
// with a day suffix ("7d", "1d12h", "90s") and byte sizes ("8MiB", "64KiB",
// "512", "1.5MB"). Both types decode from YAML and JSON strings or numbers.
package units

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration that also accepts a "d" (24h) unit.
type Duration time.Duration

// ParseDuration parses a Go duration, allowing a leading "<n>d" for days.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(in, 'd'); i > 0 {
		n, err := strconv.ParseFloat(in[:i], 64)
		if err != nil || n < 0 || math.IsInf(n, 0) {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		if n > float64(math.MaxInt64/int64(24*time.Hour)) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		days = time.Duration(n * float64(24*time.Hour))
		in = in[i+1:]
		if in == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(in)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30s, 10m, 2h, 7d)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return days + d, nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// yamlValueError reports a bad value at n as a *yaml.TypeError, which lets
// the decoder go on with the rest of the document (any other error stops
// it), so that a config's problems are all reported at once. The message
// starts "line L column C: ".
func yamlValueError(n *yaml.Node, err error) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d column %d: %v", n.Line, n.Column, err)}}
}

// UnmarshalYAML accepts a duration string; a bare number is seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDurationScalar(n.Value, n.Tag == "!!int" || n.Tag == "!!float")
	if err != nil {
		return yamlValueError(n, err)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON accepts a duration string; a bare number is seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	num := false
	if err := json.Unmarshal(b, &s); err != nil {
		s, num = string(b), true
	}
	v, err := parseDurationScalar(s, num)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func parseDurationScalar(s string, number bool) (time.Duration, error) {
	if number {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > float64(math.MaxInt64)/float64(time.Second) {
			return 0, fmt.Errorf("invalid duration %s", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return ParseDuration(s)
}

// Bytes is a size in bytes, written with an optional unit: B, KB, MB, GB
// (powers of 1000) or KiB, MiB, GiB (powers of 1024); k/K also mean KiB.
type Bytes int64

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"K", 1 << 10}, {"k", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// ParseBytes parses a size such as "8MiB", "64KiB", "1.5MB" or "4096".
func ParseBytes(s string) (int64, error) {
	in := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(in, u.suffix) {
			in, mult = strings.TrimSpace(strings.TrimSuffix(in, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(in, 64)
	if err != nil || f < 0 || math.IsNaN(f) || f*mult > float64(math.MaxInt64) {
		return 0, fmt.Errorf("invalid size %q (use e.g. 512, 64KiB, 8MiB)", s)
	}
	return int64(f * mult), nil
}

// N returns the size in bytes.
func (b Bytes) N() int64 { return int64(b) }

func (b Bytes) String() string {
	n := int64(b)
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}

// UnmarshalYAML accepts a number of bytes or a size string.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseBytes(n.Value)
	if err != nil {
		return yamlValueError(n, err)
	}
	*b = Bytes(v)
	return nil
}

// UnmarshalJSON accepts a number of bytes or a size string.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		s = string(data)
	}
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = Bytes(v)
	return nil
}

// MarshalJSON writes the size string.
func (b Bytes) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

// MarshalYAML writes the size string.
func (b Bytes) MarshalYAML() (any, error) { return b.String(), nil }
