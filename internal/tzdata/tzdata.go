// Package tzdata embeds the IANA time zone database, compressed, for hosts
// without one (a minimal image has no /usr/share/zoneinfo). Importing it
// has the effect of importing time/tzdata: time.LoadLocation, and a TZ
// environment variable naming a zone, fall back to this copy when the
// system has no zone files. It adds 64 KB to the agent where time/tzdata
// adds 410 KB: time/tzdata stores the zone files uncompressed in a zip, one
// copy per name; this package keeps one DEFLATE stream and one copy of the
// zones that are links to another (US/Eastern and America/New_York).
//
// The data is Go's own: zoneinfo.flate is generated from the toolchain's
// $GOROOT/lib/time/zoneinfo.zip (go generate; a test fails when the two
// differ). Like time/tzdata, it belongs in a program's main package.
//
// A zone is read by decompressing the stream up to it: at most 0.8 ms and
// 48 KB of garbage on a PC (BenchmarkLoad), some tens of milliseconds on a
// Pi Zero, and only on a host without zone files; the scheduler caches
// every zone it loads.
package tzdata

import (
	"bufio"
	"compress/flate"
	_ "embed"
	"errors"
	"io"
	"strings"
	"syscall"
	_ "unsafe" // for go:linkname
)

//go:generate go run gen.go

//go:embed zoneinfo.flate
var zoneinfo string

// registerLoadFromEmbeddedTZData is the hook in package time that
// time/tzdata uses: time calls the function it is given after the system's
// zone directories fail. Package time marks it for this use; a Go release
// that changed it would fail the link, not a lookup.
//
//go:linkname registerLoadFromEmbeddedTZData time.registerLoadFromEmbeddedTZData
func registerLoadFromEmbeddedTZData(func(string) (string, error))

func init() {
	registerLoadFromEmbeddedTZData(load)
}

var errCorrupt = errors.New("corrupt embedded tzdata")

// load returns the zone file for name ("Europe/Berlin"), or syscall.ENOENT
// when there is no such zone, as time expects of the hook.
func load(name string) (string, error) {
	return lookup(zoneinfo, name)
}

// lookup finds name in data, a stream in the format gen.go writes.
func lookup(data, name string) (string, error) {
	fr := flate.NewReader(strings.NewReader(data))
	defer fr.Close()
	r := bufio.NewReader(fr)
	n, err := uvarint(r)
	if err != nil {
		return "", errCorrupt
	}
	var (
		buf       [255]byte // zone names are at most 32 bytes
		found     bool
		off, size uint64
	)
	for ; n > 0; n-- {
		l, err := uvarint(r)
		if err != nil || l > uint64(len(buf)) {
			return "", errCorrupt
		}
		b := buf[:l]
		if _, err := io.ReadFull(r, b); err != nil {
			return "", errCorrupt
		}
		o, err1 := uvarint(r)
		s, err2 := uvarint(r)
		if err1 != nil || err2 != nil {
			return "", errCorrupt
		}
		if !found && string(b) == name {
			found, off, size = true, o, s
		}
	}
	if !found {
		return "", syscall.ENOENT
	}
	if off > maxData || size > maxData {
		return "", errCorrupt
	}
	if _, err := r.Discard(int(off)); err != nil {
		return "", errCorrupt
	}
	z := make([]byte, size)
	if _, err := io.ReadFull(r, z); err != nil {
		return "", errCorrupt
	}
	return string(z), nil
}

// maxData bounds an offset or size read from the index: the zone files
// together are about 250 KB.
const maxData = 1 << 22

// uvarint reads an unsigned LEB128 number, as encoding/binary writes it.
func uvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, errCorrupt
}
