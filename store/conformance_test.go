package store_test

import (
	"path/filepath"
	"testing"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/store"
)

// TestConformance runs the sched.Store suite on a real file.
func TestConformance(t *testing.T) {
	schedtest.RunStoreTests(t, func(t *testing.T) sched.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}
