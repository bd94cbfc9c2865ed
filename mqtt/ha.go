package mqtt

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/edgecron/edgecron/sched"
)

// Home Assistant discovery (docs/homeassistant.md). Each entity is one
// retained config on <discovery_prefix>/<component>/<node>/<object>/config
// whose templates read the payloads the agent publishes anyway: readings,
// actuator states, job documents. The components are built in
// ha_entities.go, the job commands handled in ha_jobs.go.

// haConfig is one entity's discovery config.
type haConfig map[string]any

// haEntity is one entity to announce.
type haEntity struct {
	component string // sensor, binary_sensor, switch, light, number, fan, button
	object    string // the object id: unique on the device within its component
	config    haConfig
	// ident names what the entity stands for, unambiguously (the object
	// id is made of names squeezed into [a-zA-Z0-9_-], so two can meet).
	ident string
}

// discovery returns Home Assistant's retained config topics and payloads:
// the sensors' values, the actuators and the selected jobs, all available
// while <root>/status is online.
func (a *Agent) discovery() map[string][]byte {
	out := map[string][]byte{}
	var ents []haEntity
	if a.deps.Inventory != nil {
		for _, s := range a.deps.Inventory.Sensors() {
			ents = append(ents, a.sensorEntities(s)...)
		}
		for _, act := range a.deps.Inventory.Actuators() {
			ents = append(ents, a.actuatorEntity(act))
		}
	}
	for _, j := range a.haJobs() {
		ents = append(ents, a.jobEntities(j)...)
	}
	uniqueObjects(ents)
	for _, e := range ents {
		c := a.haBase(e)
		maps.Copy(c, e.config)
		b, err := json.Marshal(c)
		if err != nil {
			a.log.Error("Home Assistant discovery config cannot be encoded", "object", e.object, "err", err)
			continue
		}
		out[a.cfg.DiscoveryPrefix+"/"+e.component+"/"+a.haNode()+"/"+e.object+"/config"] = b
	}
	return out
}

// haJobs returns the jobs home_assistant.jobs announces: every job (List),
// or those of its list of ids, a Get each and in the order of their ids
// (uniqueObjects gives a colliding object id its suffix by the order it
// meets them). Discovery runs at every job added, changed or removed:
// copying every job to announce a few cost a thousand copies a change
// with a thousand jobs.
func (a *Agent) haJobs() []sched.Job {
	ids, all := a.cfg.HomeAssistantJobs.selected()
	if all {
		return a.deps.Scheduler.List()
	}
	var jobs []sched.Job
	for _, id := range slices.Sorted(slices.Values(ids)) {
		if j, err := a.deps.Scheduler.Get(id); err == nil {
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// uniqueObjects keeps object ids unique within each component. Squeezed
// names can meet: sensor "a" value "b_c" and sensor "a_b" value "c", an
// actuator "job_x" and job x's switch, "a.b" and "a_b". The first entity
// keeps the plain id (the config's sensors and actuators come before the
// jobs, so theirs stay stable); a later one that would share it gets a
// hash of its ident appended, so Home Assistant never merges two.
func uniqueObjects(ents []haEntity) {
	seen := map[string]bool{}
	for i := range ents {
		e := &ents[i]
		if seen[e.component+"/"+e.object] {
			h := fnv.New32a()
			h.Write([]byte(e.ident))
			e.object = fmt.Sprintf("%s_%04x", e.object, h.Sum32()&0xffff)
		}
		seen[e.component+"/"+e.object] = true
	}
}

// haBase is what every config of the device carries: the name, ids, the
// availability on <root>/status (online, or offline by the Last Will)
// and the device block.
func (a *Agent) haBase(e haEntity) haConfig {
	dev := a.deps.DeviceID
	device := haConfig{
		"identifiers":  []string{ClientID(dev)},
		"name":         dev,
		"manufacturer": "edgecron",
		"model":        cmp.Or(a.deps.Model, "edgecron agent"),
		"sw_version":   a.deps.Version,
	}
	if a.cfg.ConfigurationURL != "" {
		device["configuration_url"] = a.cfg.ConfigurationURL
	}
	return haConfig{
		"unique_id":             ClientID(dev) + "_" + e.object,
		"default_entity_id":     e.component + "." + haSlug(a.haNode()+"_"+e.object),
		"availability_topic":    a.topics.Status(),
		"payload_available":     "online",
		"payload_not_available": "offline",
		"device":                device,
		"origin":                haConfig{"name": "edgecron", "sw_version": a.deps.Version},
		"qos":                   1,
	}
}

// haNode is the device's node id in discovery topics: the device_id when
// Home Assistant takes it (letters, digits, _ and -), else the device_id
// made safe with a hash of the real one appended, so that "a.b" and "a_b"
// never share topics.
func (a *Agent) haNode() string {
	dev := a.deps.DeviceID
	if safe := haObject(dev); safe != dev {
		h := fnv.New32a()
		h.Write([]byte(dev))
		return fmt.Sprintf("%s_%04x", safe, h.Sum32()&0xffff)
	}
	return dev
}

// haObject makes a Home Assistant object id: letters, digits, _ and -.
func haObject(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// haSlug makes the object part of an entity id as Home Assistant takes
// it: lower-case letters, digits and single underscores inside
// ("Greenhouse-1_job_water-beds" → "greenhouse_1_job_water_beds").
func haSlug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
			continue
		}
		under = true
	}
	if b.Len() == 0 {
		return "edgecron"
	}
	return b.String()
}

// haStatus is where Home Assistant announces itself: <prefix>/status.
func (a *Agent) haStatus() string { return a.cfg.DiscoveryPrefix + "/status" }

// haConfigFilter subscribes to the device's own retained discovery
// configs: those of entities it no longer has are cleared (see
// clearUnannounced).
func (a *Agent) haConfigFilter() string {
	return a.cfg.DiscoveryPrefix + "/+/" + a.haNode() + "/+/config"
}

// isHAConfig reports whether topic is one of the device's discovery
// config topics: <prefix>/<component>/<node>/<object>/config.
func (a *Agent) isHAConfig(topic string) bool {
	parts := strings.Split(topic, "/")
	return len(parts) == 5 && parts[0] == a.cfg.DiscoveryPrefix && parts[2] == a.haNode() && parts[4] == "config" &&
		parts[1] != "" && parts[3] != ""
}

// ownHAConfig reports whether a discovery config is one this device
// announced: its unique_id is edgecron-<device_id>_<object>. Another
// program's config on a topic of the same shape is left alone.
func (a *Agent) ownHAConfig(payload []byte) bool {
	var c struct {
		UniqueID string `json:"unique_id"`
	}
	return json.Unmarshal(payload, &c) == nil && strings.HasPrefix(c.UniqueID, ClientID(a.deps.DeviceID)+"_")
}

// Rediscover brings Home Assistant's discovery up to date after the
// sensors or actuators changed (a config reload): the configs of new and
// changed entities are published, those of entities gone are cleared. It
// returns at once; the agent's worker publishes, in order with everything
// else it announces. Without a connection, the next one does it. It does
// nothing with home_assistant off.
func (a *Agent) Rediscover() {
	if a.cfg.HomeAssistant {
		a.signal(a.haDiff)
	}
}

// publishDiscovery publishes the discovery configs (retained) when
// home_assistant is on, and clears them when it is off. full announces
// every config (at connection, when Home Assistant restarts); otherwise
// only those that changed since the last announcement are. Either way the
// configs announced before and gone since are cleared. Only the worker
// calls it.
func (a *Agent) publishDiscovery(full bool) {
	if !a.Connected() {
		return
	}
	c := a.cur()
	want := map[string][]byte{}
	if a.cfg.HomeAssistant {
		want = a.discovery()
	} else {
		for topic := range a.discovery() {
			c.Publish(topic, 1, true, []byte{})
		}
	}
	var announced, cleared []string
	for _, topic := range slices.Sorted(maps.Keys(want)) {
		if full || !bytes.Equal(a.announced[topic], want[topic]) {
			c.Publish(topic, 1, true, want[topic])
			announced = append(announced, topic)
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(a.announced)) {
		if _, ok := want[topic]; !ok {
			c.Publish(topic, 1, true, []byte{})
			cleared = append(cleared, topic)
		}
	}
	a.announced = want
	if !full && len(announced)+len(cleared) > 0 {
		a.log.Info("Home Assistant discovery updated", "announced", announced, "cleared", cleared)
	}
}

// clearUnannounced clears a retained discovery config of this device that
// it does not announce now: an entity removed while the agent was stopped
// or away, or all of them once home_assistant is off. The broker sends
// these at each connection, so what the device announced is known across
// restarts without keeping a list of it.
func (a *Agent) clearUnannounced(topic string, payload []byte) {
	if a.cfg.HomeAssistant {
		if _, ok := a.discovery()[topic]; ok {
			return
		}
	}
	if !a.ownHAConfig(payload) || !a.Connected() {
		return
	}
	a.log.Info("clearing the Home Assistant discovery config of an entity this device no longer has", "topic", topic)
	a.cur().Publish(topic, 1, true, []byte{})
	delete(a.announced, topic)
}
