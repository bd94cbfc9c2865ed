// Command pahoidle is the peer scripts/footprint.sh measures the agent's
// idle CPU against: a process that does nothing but hold one paho MQTT
// connection, with the agent's keepalive (30s), until SIGTERM.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pahoidle BROKER_URL")
		os.Exit(2)
	}
	o := paho.NewClientOptions().AddBroker(os.Args[1]).SetClientID(fmt.Sprintf("pahoidle-%d", os.Getpid())).
		SetKeepAlive(30 * time.Second).SetAutoReconnect(true)
	c := paho.NewClient(o)
	if t := c.Connect(); t.Wait() && t.Error() != nil {
		fmt.Fprintln(os.Stderr, "pahoidle:", t.Error())
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	c.Disconnect(250)
}
