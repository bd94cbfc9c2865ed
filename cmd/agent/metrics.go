package main

import (
	"time"

	"github.com/edgecron/edgecron/metrics"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
	"github.com/edgecron/edgecron/store/outbox"
)

// newMetrics makes the registry behind /metrics (docs/http.md, Metrics)
// on the parts setup made. It is made only with http.enabled: without it
// nothing listens to the scheduler's events and nothing is counted.
func newMetrics(a *agent, e *extensions) *metrics.Metrics {
	src := metrics.Sources{
		Jobs: a.sched, Sensors: e.sensors, Actuators: e.outputs,
		Store: storeWrites{a.store, e.ob}, Start: time.Now(),
	}
	if e.mq != nil {
		src.Outbox, src.Broker = e.ob, broker{e.mq}
	}
	return metrics.New(src)
}

// storeWrites reads the store's commits, and counts the fdatasyncs of its
// file: bbolt makes two per commit (the pages, then the meta page), the
// store's and the outbox's alike.
type storeWrites struct {
	st *store.Store
	ob *outbox.Outbox // nil without a broker
}

func (w storeWrites) Writes() (commits, syncs uint64) {
	commits = uint64(w.st.Stats().Commits)
	syncs = 2 * commits
	if w.ob != nil {
		syncs += 2 * uint64(w.ob.Commits())
	}
	return commits, syncs
}

// broker is the MQTT agent as the metrics see it.
type broker struct{ *mqtt.Agent }

func (b broker) Connects() uint64 { return b.Stats().Connects }

// observers hands each reading, and each failed read, to the scheduler
// and then to the metrics.
type observers struct {
	sched   observer
	metrics observer
}

func (o observers) Observe(sensor string, at time.Time, values []sched.Sample) {
	o.sched.Observe(sensor, at, values)
	o.metrics.Observe(sensor, at, values)
}

func (o observers) ObserveFailure(sensor string) {
	o.sched.ObserveFailure(sensor)
	o.metrics.ObserveFailure(sensor)
}
