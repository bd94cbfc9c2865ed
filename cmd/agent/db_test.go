package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
	bolt "go.etcd.io/bbolt"
)

// A store with one damaged job: db check names it, the jobs commands work
// on the rest, db salvage takes it out as JSON, and the file checks ok.
// An empty store file is refused with the way to recover.
func TestDamagedStoreCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "agent.db")
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf("device_id: dbt\ntimezone: UTC\nhardware: {board: sim}\nstore: {path: %[1]s}\ncontrol: {socket: %[2]s/agent.sock}\n", db, dir)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cs []sched.Change
	for _, id := range []string{"good", "bad"} {
		j := sched.Job{ID: id, Trigger: sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-01-01T00:00:00Z"},
			Action: sched.Action{Type: "publish", Raw: []byte(`{"type":"publish","topic":"x","payload":"1"}`)}, MaxInstances: 1, Version: 1, Source: sched.SourceCLI}
		cs = append(cs, sched.Change{ID: id, Job: j})
	}
	if err := st.Commit(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	bdb, err := bolt.Open(db, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("jobs"))
		v := bytes.Clone(b.Get([]byte("bad")))
		v[bytes.LastIndexByte(v, '}')] = ' '
		return b.Put([]byte("bad"), v)
	})
	bdb.Close()

	if code, out, _ := run(t, "", "db", "check", "--config", cfgPath); code != 1 || !strings.Contains(out, `job "bad": its action is not a valid JSON object`) {
		t.Fatalf("db check: exit %d\n%s", code, out)
	}
	if code, out, errs := run(t, "", "jobs", "export", "--config", cfgPath); code != 0 || !strings.Contains(out, `"good"`) || strings.Contains(out, `"bad"`) {
		t.Fatalf("jobs export: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := run(t, "", "db", "salvage", "--config", cfgPath)
	var got []store.Damaged
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 || got[0].ID != "bad" || !strings.Contains(errs, "1 damaged record(s) taken out") {
		t.Fatalf("db salvage: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := run(t, "", "db", "check", "--config", cfgPath); code != 0 || !strings.Contains(out, "jobs:           1") {
		t.Fatalf("db check after salvage: exit %d\n%s", code, out)
	}

	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"db", "check"}, {"jobs", "list"}, {"jobs", "pause", "good"}} {
		code, _, errs := run(t, "", append(args, "--config", cfgPath)...)
		if code == 0 || !strings.Contains(errs, "is empty (0 bytes), not a store") || !strings.Contains(errs, "To recover") {
			t.Errorf("%v on an empty file: exit %d: %s", args, code, errs)
		}
	}
	if fi, err := os.Stat(db); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was written to: %v %v", fi, err)
	}
}
