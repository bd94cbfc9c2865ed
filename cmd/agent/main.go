// Command agent is edgecron's scheduling agent for Raspberry Pi-class
// devices. main only wires signals to a context and maps the result of Main
// to an exit code: 0 success, 1 runtime failure, 2 bad input or usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// The IANA zones for a host without /usr/share/zoneinfo, as
	// time/tzdata would embed them but compressed (docs/footprint.md).
	_ "github.com/edgecron/edgecron/internal/tzdata"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	m := NewMain(os.Stdin, os.Stdout, os.Stderr)
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
