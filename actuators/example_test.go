package actuators_test

import (
	"fmt"

	"github.com/edgecron/edgecron/actuators"
)

func ExampleParseSetPayload() {
	for _, p := range []string{"ON", "toggle", `{"command":"pulse","duration":"5s"}`, `{"command":"set","value":1.5}`} {
		c, err := actuators.ParseSetPayload([]byte(p))
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(c.Name, c.Value, c.Duration)
	}
	// Output:
	// on 0 0s
	// toggle 0 0s
	// pulse 0 5s
	// error: value: must be 0..1, got 1.5
}
