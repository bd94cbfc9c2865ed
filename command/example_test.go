//go:build linux

package command_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/edgecron/edgecron/command"
	"github.com/edgecron/edgecron/sched"
)

func ExampleHandler() {
	h, err := command.NewHandler(command.Config{
		"greet": {Argv: []string{"/bin/echo", "hello"}, Args: []string{"[a-z]{1,10}"}},
	}, command.Options{MaxProcs: 2})
	if err != nil {
		panic(err)
	}
	// The action of a job arriving over MQTT: it names a declared command.
	var a sched.Action
	json.Unmarshal([]byte(`{"type":"exec","command":"greet","args":["world"]}`), &a)
	if err := h.Validate(a); err != nil {
		panic(err)
	}
	res, err := h.Run(context.Background(), sched.Run{Job: sched.Job{ID: "hello", Action: a}})
	fmt.Printf("%q %v %v\n", res["stdout"], res["exit_code"], err)

	json.Unmarshal([]byte(`{"type":"exec","command":"greet","args":["World; reboot"]}`), &a)
	fmt.Println(h.Validate(a))
	// Output:
	// "hello world\n" 0 <nil>
	// action.args[0]: "World; reboot" is not allowed: commands.greet.args[0] is "[a-z]{1,10}"
}
