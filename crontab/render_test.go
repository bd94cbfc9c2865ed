package crontab

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgecron/edgecron/command"
)

// TestWriteYAMLQuotesAndComments renders entries whose text needs YAML
// quoting and whose lines hold comment characters; the fragment must read
// back to exactly the same commands.
func TestWriteYAMLQuotesAndComments(t *testing.T) {
	tricky := []string{
		`echo "a: b" # not a comment for YAML`,
		`echo '{x}' [y] & *z !w %v @u`,
		`: ; true`,
		"- dash first",
		"yes",
		"0123",
		"",
	}
	res := Result{Options: Options{Source: "tricky"}}
	for i, cmd := range tricky {
		res.Entries = append(res.Entries, Converted{
			Line: i + 1, Text: "* * * * * " + cmd, Name: "c" + string(rune('a'+i)), Expr: "* * * * *",
			Command: command.Spec{Argv: []string{"/bin/sh", "-c", cmd}, Env: map[string]string{"B": "#x", "A": "on"}},
		})
	}
	res.Entries[0].Timezone = "Europe/Berlin"
	res.Entries[1].Warning = "something to review"
	res.Variables = []Note{{Line: 9, Text: "MAILTO=x", Reason: whyMail}}
	res.Skipped = []Note{{Line: 10, Text: "@foo /x", Reason: "not converted: unknown schedule"}}
	var buf bytes.Buffer
	if err := res.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "tricky.yaml")
	if *update {
		os.WriteFile(golden, buf.Bytes(), 0o644)
	}
	if want, _ := os.ReadFile(golden); !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("fragment differs from %s:\n%s", golden, buf.Bytes())
	}
	fr := checkFragment(t, buf.Bytes())
	for _, c := range res.Entries {
		got := fr.Commands[c.Name]
		if len(got.Argv) != 3 || got.Argv[2] != c.Command.Argv[2] || got.Env["B"] != "#x" || got.Env["A"] != "on" {
			t.Errorf("%s read back as %+v", c.Name, got)
		}
	}
	if fr.Jobs[0].Trigger["timezone"] != "Europe/Berlin" {
		t.Errorf("job 0 trigger = %v", fr.Jobs[0].Trigger)
	}
}

func TestCommentTextStaysOnOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttab": "plain\ttab",
		"a\rb\x00c":  "a\uFFFDb\uFFFDc",
		"a\u2028b":   "a\uFFFDb",
		"a\u0085b":   "a\uFFFDb",
		"a\xffb":     "a\uFFFDb",
	} {
		if got := commentText(in); got != want {
			t.Errorf("commentText(%q) = %q, want %q", in, got, want)
		}
	}
}
