package board_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/sensors"
)

// Example builds a Pi's sensors and actuators on the simulated board, as
// `edgecron run --hardware sim` does.
func Example() {
	clock := schedtest.NewFakeClock(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC))
	hw, err := board.Open(board.Sim, board.Options{Seed: 1, Clock: clock})
	if err != nil {
		panic(err)
	}
	defer hw.Close()

	reg, err := sensors.Build([]sensors.Config{{Name: "air", Driver: "bme280", Bus: "1"}}, hw, clock)
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	rd, err := reg.Read(context.Background(), "air")
	if err != nil {
		panic(err)
	}
	for _, v := range rd.Values {
		fmt.Printf("%s in %s\n", v.Name, v.Unit)
	}

	set, err := actuators.Build([]actuators.Config{{Name: "pump", Driver: "gpio", Pin: "GPIO17"}}, hw, clock, slog.New(slog.DiscardHandler))
	if err != nil {
		panic(err)
	}
	defer set.Close()
	st, err := set.Apply("pump", actuators.Command{Name: actuators.On})
	fmt.Println(string(st.Payload()), err)
	// Output:
	// temperature in °C
	// pressure in hPa
	// humidity in %
	// ON <nil>
}
