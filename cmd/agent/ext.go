package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/board"
	"github.com/edgecron/edgecron/metrics"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
	"github.com/edgecron/edgecron/sensors/history"
	"github.com/edgecron/edgecron/store/outbox"
)

// extensions wires the parts around the scheduler: the board with its
// sensors and actuators, and MQTT.
type extensions struct {
	board   board.Hardware
	sensors *sensors.Registry
	outputs *actuators.Set
	sink    sensors.Sink
	obs     observer         // the scheduler, which readings feed (and the metrics, when they are on)
	metrics *metrics.Metrics // nil while http.enabled is off: nothing is counted
	hist    *history.Store   // the dashboard's charts; nil while http.enabled is off
	api     *api.Service     // the request pipeline MQTT and HTTP share
	mq      *mqtt.Agent      // nil without mqtt.broker
	ob      *outbox.Outbox   // nil without mqtt.broker

	cancel context.CancelFunc // ends the goroutines below
	wg     sync.WaitGroup
	unsub  func()
}

// openHardware opens the board the config names and builds the sensors and
// the actuators on it; the actuators are driven to their boot state.
func openHardware(c *Config, clk sched.Clock, log *slog.Logger) (board.Hardware, *sensors.Registry, *actuators.Set, error) {
	hw, err := board.Open(c.Hardware.Board, board.Options{Clock: clk})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("hardware.board %s: %w", c.Hardware.Board, err)
	}
	reg, err := sensors.Build(c.Sensors, hw, clk)
	if err != nil {
		hw.Close()
		return nil, nil, nil, fmt.Errorf("sensors: %w", dottedErr{err})
	}
	set, err := actuators.Build(c.Actuators, hw, clk, log.With("component", "actuators"))
	if err != nil {
		reg.Close()
		hw.Close()
		return nil, nil, nil, fmt.Errorf("actuators: %w", dottedErr{err})
	}
	return hw, reg, set, nil
}

func (e *extensions) setup(ctx context.Context, a *agent) error {
	var err error
	clk := sched.Clock(sched.NewSystemClock())
	hwClk := a.hwClock
	if hwClk == nil {
		hwClk = clk
	}
	e.board, e.sensors, e.outputs, err = openHardware(a.cfg, hwClk, a.log)
	if err != nil {
		return err
	}
	a.log.Info("hardware ready", "board", e.board.String(), "sensors", len(e.sensors.Names()), "actuators", len(e.outputs.Names()))
	c := a.cfg
	// One pipeline for every transport: a request id is answered once,
	// whether it comes over MQTT or HTTP.
	e.api = api.New(api.Deps{Scheduler: a.sched, Actuators: actuators.Payloads{Set: e.outputs}, Clock: clk,
		Location: c.location, Site: c.site(), Logger: a.log.With("component", "api")})
	if err := e.setupMQTT(a, clk); err != nil {
		return err
	}
	e.obs = a.sched
	if c.HTTP.Enabled {
		e.metrics = newMetrics(a, e)
		e.obs = observers{a.sched, e.metrics}
		e.hist = history.New(history.DefaultStep, history.DefaultPoints)
	}
	sink := readingSink{log: a.log.With("component", "readings"), obs: e.obs, hist: e.hist}
	if e.mq != nil {
		sink.next = mqttSink{e.mq, e.sensors}
	}
	e.sink = sink
	return nil
}

// setupMQTT opens the outbox and makes the MQTT agent, when the config
// names a broker.
func (e *extensions) setupMQTT(a *agent, clk sched.Clock) error {
	c := a.cfg
	if !c.MQTT.Enabled() {
		a.log.Info("mqtt: no broker configured (mqtt.broker): remote control and telemetry are off")
		return nil
	}
	ob, err := outbox.Open(a.store.DB(), outbox.Options{MaxBytes: c.MQTT.Outbox.MaxBytes.N(), MaxAge: c.MQTT.Outbox.MaxAge.D(), Logger: a.log})
	if err != nil {
		return fmt.Errorf("mqtt outbox: %w", err)
	}
	e.ob = ob
	e.mq, err = mqtt.New(c.MQTT, mqtt.Deps{
		DeviceID: c.DeviceID, Groups: c.Groups, Scheduler: a.sched, Outbox: ob, API: e.api,
		Actuators: actuators.Payloads{Set: e.outputs}, Inventory: inventory{e.sensors, e.outputs},
		Clock: clk, Location: c.location, Site: c.site(), BootID: kernelBootID(), Logger: a.log, Version: version, Model: deviceModel(c.Hardware.Board),
		ClockSynced: a.clock.Trusted, OnConnection: e.brokerChanged,
	})
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	return nil
}

func (e *extensions) handlerDeps(clk sched.Clock) handlerDeps {
	d := handlerDeps{clock: clk, sensors: e.sensors, outputs: e.outputs, sink: e.sink, obs: e.obs}
	if e.mq != nil {
		d.publisher = e.mq
	}
	return d
}

// start connects to the broker (in the background: the agent works
// without it) and publishes actuator state. Until the first connection the
// broker counts as lost: the outputs' broker_lost states apply if it stays
// away for their after (see brokerChanged).
func (e *extensions) start(ctx context.Context, a *agent) error {
	if e.mq == nil {
		return nil
	}
	rctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.unsub = e.outputs.Subscribe(func(ch actuators.Change) {
		var v *float64
		if ch.State.PWM {
			val := ch.State.Value
			v = &val
		}
		e.mq.ActuatorState(ch.Actuator, ch.State.On, v)
	})
	e.outputs.BrokerLost()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.mq.Run(rctx); err != nil && rctx.Err() == nil {
			a.log.Error("mqtt stopped", "err", err)
		}
	}()
	return nil
}

// brokerChanged is the MQTT agent's OnConnection: a loss arms the outputs'
// broker_lost timers, a connection cancels them. Nothing polls.
func (e *extensions) brokerChanged(connected bool) {
	if connected {
		e.outputs.BrokerRestored()
	} else {
		e.outputs.BrokerLost()
	}
}

// stop runs after the scheduler stopped, so nothing else commands the
// outputs: every output goes to its shutdown state (a running pulse is cut
// short), then MQTT publishes that state, says offline and commits its
// outbox. It returns an error when that last commit failed and telemetry
// was lost (the outbox logged and counted it): the agent's exit status
// says so.
func (e *extensions) stop(a *agent) error {
	if e.metrics != nil {
		e.metrics.Close()
	}
	if e.outputs != nil {
		if err := e.outputs.Halt(); err != nil {
			a.log.Error("outputs to their shutdown state", "err", err)
		}
	}
	if e.cancel != nil {
		e.cancel()
		e.wg.Wait()
		e.cancel = nil
	}
	if e.unsub != nil {
		e.unsub()
		e.unsub = nil
	}
	if e.mq != nil {
		if err := e.mq.Close(); err != nil {
			a.log.Error("mqtt close", "err", err)
		}
		e.mq = nil
	}
	if e.ob != nil {
		ob := e.ob
		e.ob = nil
		if err := ob.Close(); err != nil {
			a.log.Error("telemetry lost at the stop", "err", err)
			return err
		}
	}
	return nil
}

// close releases the hardware. On a failed start it also does what stop
// would have done (outputs to their shutdown state).
func (e *extensions) close(a *agent) {
	_ = e.stop(a) // logged; the start already failed
	if e.outputs != nil {
		e.outputs.Close()
	}
	if e.sensors != nil {
		e.sensors.Close()
	}
	if e.board != nil {
		e.board.Close()
	}
}

// sensorReloadWait bounds how long a reload waits for a read in flight on
// a sensor it must close (see sensors.Registry.Reload).
const sensorReloadWait = 15 * time.Second

// reload applies a new config's sensors and actuators without reopening a
// sensor or cycling an output whose definition did not change. The
// sensors go first, so that the read jobs of new sensors validate in the
// job sync that follows, and so that rejected sensors leave everything
// as it was; if the actuators are then rejected, the running sensors are
// put back.
func (e *extensions) reload(ctx context.Context, a *agent, c *Config) error {
	if err := e.reloadSensors(ctx, a, c.Sensors); err != nil {
		return fmt.Errorf("sensors: %w", dottedErr{err})
	}
	if err := e.outputs.Reload(c.Actuators, e.board); err != nil {
		// Reload may have applied part of the list before a drive failed.
		e.restore(ctx, a)
		return fmt.Errorf("actuators: %w", dottedErr{err})
	}
	return nil
}

// reloaded publishes a reload's outcome on <root>/events (no problems:
// accepted).
func (e *extensions) reloaded(path string, problems []string) {
	if e.mq != nil {
		e.mq.ConfigReloaded(path, problems)
	}
}

// setGroups applies a reload's groups: the device takes the commands of
// its new groups and leaves the roster of those it left.
func (e *extensions) setGroups(a *agent, groups []string) {
	if e.mq == nil {
		return
	}
	if err := e.mq.SetGroups(groups); err != nil { // the config checked them: not expected
		a.log.Error("reload: groups not applied", "err", err)
	}
}

// rediscover brings Home Assistant discovery up to date with the sensors
// and actuators as they are now (the MQTT agent announces what changed
// and clears what is gone; nothing when nothing changed).
func (e *extensions) rediscover() {
	if e.mq != nil {
		e.mq.Rediscover()
	}
}

// reloadSensors applies cfgs to the sensor registry; on error nothing
// changed. A dropped sensor that did not close cleanly is only logged.
func (e *extensions) reloadSensors(ctx context.Context, a *agent, cfgs []sensors.Config) error {
	ctx, cancel := context.WithTimeout(ctx, sensorReloadWait)
	defer cancel()
	err := e.sensors.Reload(ctx, cfgs, e.board)
	if errors.Is(err, sensors.ErrNotClosed) {
		a.log.Warn("reload: sensors", "err", err)
		return nil
	}
	return err
}

// restore puts the running config's sensors and actuators back when a
// step of a reload rejected the new config. Outputs the rejected config
// had changed go back to their running definition (and its boot state).
func (e *extensions) restore(ctx context.Context, a *agent) {
	if err := e.outputs.Reload(a.cfg.Actuators, e.board); err != nil {
		a.log.Error("reload: restoring the running config's actuators", "err", err)
	}
	if err := e.reloadSensors(ctx, a, a.cfg.Sensors); err != nil {
		a.log.Error("reload: restoring the running config's sensors", "err", err)
	}
}

// sensorJobs turns each sensor's interval into a read job of source
// config, with the id "sensor-<name>".
func (e *extensions) sensorJobs(c *Config) []sched.Patch {
	var ps []sched.Patch
	for _, s := range c.Sensors {
		if s.Interval.D() <= 0 {
			continue
		}
		act, err := sched.NewAction("read", map[string]string{"sensor": s.Name})
		if err != nil {
			continue
		}
		ps = append(ps, sched.Patch{
			Job: sched.Job{
				ID:      "sensor-" + s.Name,
				Name:    "read " + s.Name + " every " + s.Interval.String(),
				Trigger: sched.TriggerSpec{Type: "interval", Seconds: s.Interval.D().Seconds()},
				Action:  act,
			},
			Fields: sched.FieldID | sched.FieldName | sched.FieldTrigger | sched.FieldAction,
		})
	}
	return ps
}

// deviceModel is the device's model in Home Assistant: the machine's own
// (/proc/device-tree/model: "Raspberry Pi 4 Model B Rev 1.4"), or what
// the board config says.
func deviceModel(board string) string {
	if board != "sim" {
		if b, err := os.ReadFile("/proc/device-tree/model"); err == nil {
			if m := strings.TrimRight(string(b), "\x00\n "); m != "" {
				return m
			}
		}
	}
	return "edgecron agent (" + board + " board)"
}

// mqttSink publishes readings as MQTT telemetry (through the outbox while
// the broker is away), those that pass their sensor's publish filter.
type mqttSink struct {
	mq  readingPublisher
	reg *sensors.Registry
}

// readingPublisher is what mqttSink needs of the MQTT agent.
type readingPublisher interface {
	Reading(sensor string, ts time.Time, values map[string]float64, units map[string]string)
}

func (s mqttSink) Publish(_ context.Context, r sensors.Reading) error {
	if s.reg.Publishes(r) {
		s.mq.Reading(r.Sensor, r.Time, r.ValueMap(), r.UnitMap())
	}
	return nil
}

// inventory lists sensors and actuators for Home Assistant discovery.
type inventory struct {
	sensors *sensors.Registry
	outputs *actuators.Set
}

func (i inventory) Sensors() []mqtt.SensorInfo {
	var out []mqtt.SensorInfo
	for _, n := range i.sensors.Names() {
		si := mqtt.SensorInfo{Name: n}
		for _, v := range i.sensors.Describe(n) {
			si.Values = append(si.Values, mqtt.ValueInfo{Name: v.Name, Unit: v.Unit,
				DeviceClass: v.Class.Device, StateClass: v.Class.State, Binary: v.Class.Binary})
		}
		out = append(out, si)
	}
	return out
}

func (i inventory) Actuators() []mqtt.ActuatorInfo {
	var out []mqtt.ActuatorInfo
	for _, n := range i.outputs.Names() {
		st, _ := i.outputs.State(n)
		c, _ := i.outputs.Config(n)
		out = append(out, mqtt.ActuatorInfo{Name: n, PWM: st.PWM, Entity: c.HAEntity()})
	}
	return out
}
