package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/edgecron/edgecron/command"
	"github.com/edgecron/edgecron/publish"
	"github.com/edgecron/edgecron/sched"
)

// TestHandlersUpdateAllOrNothing: a reloaded config whose commands the
// handlers refuse leaves the publish rules as they were, although they
// come first (they used to be applied before the commands were checked).
func TestHandlersUpdateAllOrNothing(t *testing.T) {
	c, err := ParseConfig("agent.yaml", []byte("device_id: pi-1\ntimezone: UTC\npublish: {allow: [\"old/#\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := buildHandlers(c, slog.New(slog.NewTextHandler(io.Discard, nil)), handlerDeps{offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer hs.close()
	next := *c
	next.Publish = publish.Config{Allow: []string{"new/#"}}
	next.Commands = command.Config{"backup": {Argv: []string{"relative/path"}}} // refused: not absolute
	if err := hs.update(&next); err == nil {
		t.Fatal("an update with a refused command was applied")
	}
	allowed := func(topic string) bool {
		a, err := sched.NewAction(publish.ActionType, map[string]any{"topic": topic, "payload": "x"})
		if err != nil {
			t.Fatal(err)
		}
		return hs.publish.Validate(a) == nil
	}
	if !allowed("old/a") || allowed("new/a") {
		t.Errorf("after the refused update: old/a allowed %v, new/a allowed %v; want the old rules kept", allowed("old/a"), allowed("new/a"))
	}
}
