package tzdata

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

//go:embed zoneinfo.source
var source string

// toolchainZip is the zone database the Go toolchain ships and time/tzdata
// embeds, when it is the one zoneinfo.flate was generated from. Other Go
// releases ship older or newer databases (README asks for Go 1.25 or
// newer): there is then nothing to compare with, and TestAllZones still
// checks the embedded data.
func toolchainZip(t testing.TB) *zip.ReadCloser {
	t.Helper()
	path := filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no toolchain zone database to compare with: %v", err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != strings.TrimSpace(source) {
		t.Skipf("%s (%s) is not the database zoneinfo.flate was generated from; run go generate in internal/tzdata to embed it", path, runtime.Version())
	}
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { z.Close() })
	return z
}

// TestAllZones: every zone embedded decodes to a zone file package time
// accepts, whatever the toolchain.
func TestAllZones(t *testing.T) {
	all := names(t, zoneinfo)
	if len(all) < 500 {
		t.Fatalf("%d zones embedded, want the whole IANA database", len(all))
	}
	for _, name := range all {
		data, err := load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := time.LoadLocationFromTZData(name, []byte(data)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// names returns the zone names in data's index.
func names(t *testing.T, data string) []string {
	t.Helper()
	r := bufio.NewReader(flate.NewReader(strings.NewReader(data)))
	n, err := uvarint(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for ; n > 0; n-- {
		l, err := uvarint(r)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
		for range 2 {
			if _, err := uvarint(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// TestMatchesToolchain checks every zone against the toolchain's database,
// when it is the one the data was generated from (zoneinfo.source).
func TestMatchesToolchain(t *testing.T) {
	z := toolchainZip(t)
	want := map[string]bool{}
	for _, f := range z.File {
		want[f.Name] = true
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, err := load(f.Name)
		if err != nil {
			t.Fatalf("%s: %v (zoneinfo.flate is out of date: run go generate in internal/tzdata)", f.Name, err)
		}
		if got != string(b) {
			t.Fatalf("%s: %d bytes differ from the toolchain's %d (zoneinfo.flate is out of date: run go generate in internal/tzdata)", f.Name, len(got), len(b))
		}
	}
	for _, n := range names(t, zoneinfo) {
		if !want[n] {
			t.Errorf("%s is not in the toolchain's database (zoneinfo.flate is out of date: run go generate in internal/tzdata)", n)
		}
		delete(want, n)
	}
	if len(want) > 0 {
		t.Errorf("%d zones missing, e.g. %v", len(want), want)
	}
}

func TestLoad(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "US/Eastern", "Zulu", "Pacific/Kiritimati"} {
		data, err := load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasPrefix(data, "TZif") {
			t.Fatalf("%s: not a zone file: %q", name, data[:min(len(data), 16)])
		}
		if _, err := time.LoadLocationFromTZData(name, []byte(data)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Links share their data.
	a, _ := load("US/Eastern")
	b, _ := load("America/New_York")
	if a != b {
		t.Error("US/Eastern and America/New_York differ")
	}
}

// An unknown name is syscall.ENOENT, which time reads as "not here".
func TestUnknown(t *testing.T) {
	for _, name := range []string{"", "Nowhere/City", "europe/berlin", "Europe", "Europe/Berlin/", "UTC\x00"} {
		if _, err := load(name); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("%q: err = %v, want ENOENT", name, err)
		}
	}
}

func TestCorrupt(t *testing.T) {
	for _, data := range []string{"", "not deflate", zoneinfo[:len(zoneinfo)/2], zoneinfo[:100]} {
		if _, err := lookup(data, "UTC"); !errors.Is(err, errCorrupt) {
			t.Errorf("%d bytes: err = %v, want errCorrupt", len(data), err)
		}
	}
}

// FuzzLookup: any name and any damage to the data give a zone, ENOENT or
// errCorrupt, never a panic.
func FuzzLookup(f *testing.F) {
	f.Add("Europe/Berlin", 0, byte(0))
	f.Add("UTC", 10, byte(0xff))
	f.Add("Nowhere", len(zoneinfo)-1, byte(1))
	f.Fuzz(func(t *testing.T, name string, at int, xor byte) {
		data := zoneinfo
		if at > 0 && xor != 0 {
			b := []byte(data)
			b[at%len(b)] ^= xor
			data = string(b)
		}
		z, err := lookup(data, name)
		switch {
		case err == nil:
			if data == zoneinfo && !strings.HasPrefix(z, "TZif") {
				t.Fatalf("%q: not a zone file", name)
			}
		case errors.Is(err, syscall.ENOENT), errors.Is(err, errCorrupt):
		default:
			t.Fatalf("%q: unexpected error %v", name, err)
		}
	})
}

// BenchmarkLoad reads the zone that is last in the stream, the worst case.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := load("Zulu"); err != nil {
			b.Fatal(err)
		}
	}
}
