package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "edgecron")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "agent.db")

	s, err := store.Open(path, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	job := sched.Job{ID: "pump-morning", Version: 1,
		Trigger: sched.TriggerSpec{Type: "cron", Expr: "30 6 * * 1-5"},
		Action:  sched.Action{Type: "actuate", Raw: []byte(`{"type":"actuate","actuator":"pump","command":"on"}`)}}
	// Fsynced before Commit returns; PrevVersion 0: the job must be new.
	if err := s.Commit(context.Background(), []sched.Change{{ID: job.ID, Job: job}}); err != nil {
		log.Fatal(err)
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	// Offline, as `edgecron jobs list` does while the agent is stopped.
	r, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		log.Fatal(err) // store.ErrLocked while an agent runs
	}
	defer r.Close()
	// Load hands the jobs over one at a time, decoded as it goes.
	err = r.Load(context.Background(), func(j *sched.Job) error {
		fmt.Println(j.ID, j.Version, j.Trigger.Expr)
		return nil
	})
	fmt.Println(err, r.Meta().Boots)
	// Output:
	// pump-morning 1 30 6 * * 1-5
	// <nil> 1
}

func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "edgecron")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "agent.db")
	s, _ := store.Open(path, store.Options{})
	s.Close()

	rep, err := store.Check(path, store.Options{})
	fmt.Println(err, rep.Jobs, rep.Problems)
	// Output: <nil> 0 []
}
