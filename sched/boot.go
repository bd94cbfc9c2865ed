package sched

import "time"

// Boot is the machine's current boot as the program that runs the
// scheduler knows it: the kernel's boot id (on Linux
// /proc/sys/kernel/random/boot_id, new at every boot and the same across
// restarts of the agent) and when the scheduler started in this boot. The
// scheduler reads neither itself: they are its Options.
type Boot struct {
	ID string
	// At is the wall time boot triggers count their delay from; zero: the
	// time the scheduler is made.
	At time.Time
}

// bootTrigger fires once per boot: delay after Boot.At, unless the job
// already fired in this boot. Which boot a job last fired in is the
// trigger's last_boot_id, which the scheduler commits before the run (as
// it removes a date job before its run): a crash can cost the run of a
// boot, never repeat it, and a restart of the agent is not a boot.
type bootTrigger struct {
	at    time.Time // zero: the boot is not known; never fires
	fired bool      // already fired in this boot
}

// maxBootDelay is the longest delay a boot trigger takes.
const maxBootDelay = 24 * time.Hour

func compileBoot(s TriggerSpec, env Env, zone *time.Location) (Trigger, error) {
	var delay time.Duration
	if s.Delay != "" {
		d, err := time.ParseDuration(s.Delay)
		if err != nil || d < 0 || d > maxBootDelay {
			return nil, FieldError("trigger.delay", "%q: want a duration from 0 to 24h, such as \"90s\" or \"5m\"", s.Delay)
		}
		delay = d
	}
	t := &bootTrigger{}
	if env.Boot.ID != "" {
		t.at = env.Boot.At.Add(delay).In(zone)
		t.fired = s.LastBootID == env.Boot.ID
	}
	return t, nil
}

// Next implements Trigger: the boot's time plus the delay, once, even when
// it is past (the misfire rules decide, as for a date trigger).
func (t *bootTrigger) Next(prev, now time.Time) (time.Time, bool) {
	if t.at.IsZero() || t.fired || (!prev.IsZero() && !prev.Before(t.at)) {
		return time.Time{}, false
	}
	return t.at, true
}

// stampBoot returns spec marked as fired in env's boot, and whether that
// changed it.
func stampBoot(spec TriggerSpec, env Env) (TriggerSpec, bool) {
	if env.Boot.ID == "" || spec.LastBootID == env.Boot.ID {
		return spec, false
	}
	spec.LastBootID = env.Boot.ID
	return spec, true
}

// keepBootState carries the boot a job last fired in from its old trigger
// to a new one given without it, so changing a boot job does not run it
// again in the same boot.
func keepBootState(old TriggerSpec, new *TriggerSpec) {
	if new.LastBootID == "" {
		new.LastBootID = old.LastBootID
	}
}
