package schedtest_test

import (
	"testing"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

func TestMemStore(t *testing.T) {
	schedtest.RunStoreTests(t, func(t *testing.T) sched.Store { return schedtest.NewMemStore() })
}
