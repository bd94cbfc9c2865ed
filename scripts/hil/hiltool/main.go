// Command hiltool is the helper inside the hardware-in-the-loop virtual
// machine (scripts/ci-hil.sh, scripts/hil/guest.sh):
//
//	hiltool broker ADDRESS     an MQTT broker on the VM's own loopback that
//	                           prints every message published, one line
//	                           each, "topic payload", so that the guest
//	                           script can check the agent's readings and
//	                           states.
//	hiltool periph-out PIN 0|1 drives PIN the way periph's gpioioctl does
//	                           (request, configure as output, then set):
//	                           the negative control of the glitch test.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	_ "periph.io/x/host/v3/gpioioctl"
)

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "broker":
		broker(os.Args[2])
	case len(os.Args) == 4 && os.Args[1] == "periph-out":
		periphOut(os.Args[2], os.Args[3] == "1")
	default:
		fmt.Fprintln(os.Stderr, "usage: hiltool broker ADDRESS | periph-out PIN 0|1")
		os.Exit(2)
	}
}

func periphOut(name string, l gpio.Level) {
	if _, err := driverreg.Init(); err != nil {
		fail(err)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		fail(fmt.Errorf("no pin %s", name))
	}
	if err := p.Out(l); err != nil {
		fail(err)
	}
}

func broker(addr string) {
	s := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		fail(err)
	}
	if err := s.AddListener(listeners.NewTCP(listeners.Config{ID: "hil", Address: addr})); err != nil {
		fail(err)
	}
	var mu sync.Mutex
	err := s.Subscribe("#", 1, func(_ *mochi.Client, _ packets.Subscription, pk packets.Packet) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf("%s %s\n", pk.TopicName, pk.Payload)
	})
	if err != nil {
		fail(err)
	}
	if err := s.Serve(); err != nil {
		fail(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	_ = s.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hiltool:", err)
	os.Exit(1)
}
