//go:build ignore

// gen.go writes zoneinfo.flate from the Go toolchain's copy of the IANA
// time zone database ($GOROOT/lib/time/zoneinfo.zip, the same file
// time/tzdata embeds). Run it with `go generate` after a Go upgrade that
// brings a newer database. It also writes zoneinfo.source, the SHA-256 of
// the zip it read: TestMatchesToolchain compares every zone with the
// toolchain's when the toolchain has that same zip.
//
// The output is one raw DEFLATE stream of
//
//	uvarint count
//	count × (uvarint len(name), name, uvarint offset, uvarint size)
//	the distinct zone files, concatenated
//
// with the entries sorted by name and offset counted from the end of the
// index. Zones that are links (US/Eastern and America/New_York) share one
// copy of their data.
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
)

func main() {
	log.SetFlags(0)
	src := filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip")
	if len(os.Args) > 1 {
		src = os.Args[1]
	}
	z, err := zip.OpenReader(src)
	if err != nil {
		log.Fatal(err)
	}
	defer z.Close()
	type entry struct {
		name      string
		off, size int
	}
	var (
		entries []entry
		blob    bytes.Buffer
		at      = map[string]int{}
	)
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			log.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			log.Fatal(err)
		}
		off, ok := at[string(b)]
		if !ok {
			off = blob.Len()
			at[string(b)] = off
			blob.Write(b)
		}
		entries = append(entries, entry{f.Name, off, len(b)})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var raw []byte
	raw = binary.AppendUvarint(raw, uint64(len(entries)))
	for _, e := range entries {
		raw = binary.AppendUvarint(raw, uint64(len(e.name)))
		raw = append(raw, e.name...)
		raw = binary.AppendUvarint(raw, uint64(e.off))
		raw = binary.AppendUvarint(raw, uint64(e.size))
	}
	raw = append(raw, blob.Bytes()...)
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		log.Fatal(err)
	}
	w.Write(raw)
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("zoneinfo.flate", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	zb, err := os.ReadFile(src)
	if err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256(zb)
	if err := os.WriteFile("zoneinfo.source", []byte(hex.EncodeToString(sum[:])+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("zoneinfo.flate: %d zones, %d distinct files, %d bytes (from %d)", len(entries), len(at), out.Len(), len(raw))
}
