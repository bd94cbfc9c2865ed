//go:build ignore

// gen.go compresses the dashboard's files: assets/<file> to
// assets/<file>.gz, which the binary embeds (only those). Run it with `go
// generate` after editing a file in assets/; TestAssetsCurrent fails while
// a .gz is out of date.
package main

import (
	"bytes"
	"compress/gzip"
	"log"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	log.SetFlags(0)
	names, err := filepath.Glob("assets/*")
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".gz") {
			continue
		}
		src, err := os.ReadFile(n)
		if err != nil {
			log.Fatal(err)
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(src)
		if err := zw.Close(); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(n+".gz", b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: %d bytes, %d gzipped", n, len(src), b.Len())
	}
}
