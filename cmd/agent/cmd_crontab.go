package main

import (
	"context"
	"fmt"
	"os"

	"github.com/edgecron/edgecron/crontab"
)

func init() {
	register("crontab", "convert a crontab into a config fragment for review", (*Main).crontab)
}

// crontab prints the config fragment (commands: and jobs:) a crontab
// converts to, on standard output; every variable and every line it could
// not convert is reported on standard error with its line and the reason.
func (m *Main) crontab(_ context.Context, args []string) error {
	fs := m.newFlags("crontab", "crontab import FILE   (FILE - reads standard input)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "import" {
		fs.Usage()
		return usagef("usage: edgecron crontab import FILE")
	}
	path := pos[1]
	in := m.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		in = f
	}
	res, err := crontab.Convert(in, crontab.Options{System: crontab.IsSystemPath(path), Source: path})
	if err != nil {
		return usageError{fmt.Errorf("read %s: %w", path, err)}
	}
	if err := res.WriteYAML(m.Stdout); err != nil {
		return err
	}
	for _, n := range res.Variables {
		fmt.Fprintf(m.Stderr, "%s: %s\n", path, n)
	}
	for _, n := range res.Skipped {
		fmt.Fprintf(m.Stderr, "%s: %s\n", path, n)
	}
	fmt.Fprintf(m.Stderr, "%s: %d entr(ies) converted, %d line(s) not converted: review the fragment before adding it to the config\n",
		path, len(res.Entries), len(res.Skipped))
	return nil
}
