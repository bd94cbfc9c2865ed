package crontab_test

import (
	"fmt"
	"strings"

	"github.com/edgecron/edgecron/crontab"
)

func ExampleConvert() {
	tab := `MAILTO=pi@example.com
# m h dom mon dow command
*/10 6-20 * * * /usr/local/bin/take-photo.sh
@reboot /usr/local/bin/start-stream.sh
`
	res, err := crontab.Convert(strings.NewReader(tab), crontab.Options{Source: "pi's crontab"})
	if err != nil {
		panic(err)
	}
	for _, c := range res.Entries {
		fmt.Printf("line %d: %s %q boot=%v %q\n", c.Line, c.Name, c.Expr, c.Boot, c.Command.Argv)
	}
	for _, n := range append(res.Variables, res.Skipped...) {
		fmt.Printf("line %d: %.40s...\n", n.Line, n.Reason)
	}
	// Output:
	// line 3: take-photo "*/10 6-20 * * *" boot=false ["/bin/sh" "-c" "/usr/local/bin/take-photo.sh"]
	// line 4: start-stream "" boot=true ["/bin/sh" "-c" "/usr/local/bin/start-stream.sh"]
	// line 1: ignored: edgecron sends no mail; each ru...
}
