package mqtt

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
	"gopkg.in/yaml.v3"
)

// TestHANode: a device_id Home Assistant takes in a discovery topic is
// the node id as it is; any other is made safe, with a hash of the real
// id, so that two ids made alike never share topics.
func TestHANode(t *testing.T) {
	safe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	node := func(dev string) string { return (&Agent{deps: Deps{DeviceID: dev}}).haNode() }
	if got := node("greenhouse-1_b"); got != "greenhouse-1_b" {
		t.Errorf("a safe device_id became %q", got)
	}
	seen := map[string]string{}
	for _, dev := range []string{"greenhouse.1", "greenhouse_1", "greenhouse.2", "a.b.c", "a_b.c"} {
		n := node(dev)
		if !safe.MatchString(n) {
			t.Errorf("node of %q is %q: not a discovery topic level", dev, n)
		}
		if other, dup := seen[n]; dup {
			t.Errorf("%q and %q share the node %q", dev, other, n)
		}
		seen[n] = dev
		if node(dev) != n {
			t.Errorf("node of %q is not stable", dev)
		}
	}
}

// TestHASlug: default_entity_id takes what Home Assistant's entity ids
// take: lower-case letters, digits, single inner underscores.
func TestHASlug(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
	for in, want := range map[string]string{
		"demo_sim-temp_temperature":   "demo_sim_temp_temperature",
		"Greenhouse-1_job_water-beds": "greenhouse_1_job_water_beds",
		"gh_1_ab12__x_":               "gh_1_ab12_x",
		"-_-":                         "edgecron",
	} {
		got := haSlug(in)
		if got != want || !valid.MatchString(got) {
			t.Errorf("haSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHAEntityNames: names follow has_entity_name — never the device's
// name again, never a sensor's name twice.
func TestHAEntityNames(t *testing.T) {
	a := &Agent{deps: Deps{DeviceID: "greenhouse"}}
	one := SensorInfo{Name: "rain", Values: []ValueInfo{{Name: "rain"}}}
	counter := SensorInfo{Name: "rain", Values: []ValueInfo{{Name: "rain"}, {Name: "rain_total"}}}
	air := SensorInfo{Name: "air", Values: []ValueInfo{{Name: "temperature"}, {Name: "dew_point"}}}
	tests := []struct {
		s    SensorInfo
		v    int
		want any
	}{
		{one, 0, "rain"},
		{counter, 0, "rain"},
		{counter, 1, "rain total"},
		{air, 0, "air temperature"},
		{air, 1, "air dew point"},
		{SensorInfo{Name: "greenhouse", Values: []ValueInfo{{Name: "temperature"}}}, 0, nil},
		{SensorInfo{Name: "greenhouse", Values: []ValueInfo{{Name: "temperature"}, {Name: "humidity"}}}, 1, "humidity"},
	}
	for _, tt := range tests {
		if got := a.entityName(valueLabel(tt.s, tt.s.Values[tt.v])); got != tt.want {
			t.Errorf("%s/%s: name %v, want %v", tt.s.Name, tt.s.Values[tt.v].Name, got, tt.want)
		}
	}
}

// FuzzHAJobCommand: any topic and payload of a Home Assistant job command
// is either refused with a bad_request naming the payload, or becomes a
// run, resume or pause of the job named in the topic.
func FuzzHAJobCommand(f *testing.F) {
	a := &Agent{topics: NewTopics("edgecron", "gh")}
	f.Add("edgecron/gh/ha/jobs/water/run", "PRESS")
	f.Add("edgecron/gh/ha/jobs/water/enabled", "off")
	f.Add("edgecron/gh/ha/jobs/a b/enabled", "ON")
	f.Add("edgecron/gh/ha/jobs/water/run/x", "PRESS")
	f.Fuzz(func(t *testing.T, topic, payload string) {
		id, what, ok := a.haJobFromTopic(topic)
		if !ok {
			return
		}
		if a.haJobTopic(id, what) != topic {
			t.Fatalf("topic %q read as job %q %q", topic, id, what)
		}
		req, err := haJobRequest(id, what, []byte(payload))
		if err != nil {
			if !strings.Contains(err.Error(), "payload") {
				t.Fatalf("refusal does not name the payload: %v", err)
			}
			return
		}
		if req.JobID != id || (req.Op != api.OpRun && req.Op != api.OpResume && req.Op != api.OpPause) {
			t.Fatalf("%q %q became %+v", topic, payload, req)
		}
	})
}

// FuzzJobSelection: home_assistant_jobs either decodes to a selection
// that validates or is an error; a valid one survives a YAML round trip.
func FuzzJobSelection(f *testing.F) {
	f.Add("all")
	f.Add("none")
	f.Add("[water, vent]")
	f.Add("{a: 1}")
	f.Fuzz(func(t *testing.T, s string) {
		var c struct {
			Jobs JobSelection `yaml:"jobs"`
		}
		if yaml.Unmarshal([]byte("jobs: "+s), &c) != nil || c.Jobs.validate() != nil {
			return
		}
		b, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Jobs JobSelection `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Jobs, c.Jobs) {
			t.Fatalf("%q: %+v, after a round trip %+v (%v)", s, c.Jobs, back.Jobs, err)
		}
	})
}

// TestHAObjectsUnique: names squeezed into object ids can meet (a sensor
// value and another sensor, an actuator named like a job's switch, "a.b"
// and "a_b"); no two entities of one component share an object id, the
// first keeps its plain id and the result does not depend on the run.
func TestHAObjectsUnique(t *testing.T) {
	a := &Agent{deps: Deps{DeviceID: "dev"}, topics: NewTopics("edgecron", "dev")}
	build := func() []haEntity {
		var ents []haEntity
		ents = append(ents, a.sensorEntities(SensorInfo{Name: "a", Values: []ValueInfo{{Name: "b_c"}, {Name: "x"}}})...)
		ents = append(ents, a.sensorEntities(SensorInfo{Name: "a_b", Values: []ValueInfo{{Name: "c"}, {Name: "y"}}})...)
		ents = append(ents, a.actuatorEntity(ActuatorInfo{Name: "job_x"}))
		ents = append(ents, a.actuatorEntity(ActuatorInfo{Name: "p.q"}))
		ents = append(ents, a.actuatorEntity(ActuatorInfo{Name: "p_q"}))
		ents = append(ents, a.jobEntities(sched.Job{ID: "x"})...)
		uniqueObjects(ents)
		return ents
	}
	ents := build()
	seen := map[string]string{}
	for _, e := range ents {
		k := e.component + "/" + e.object
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share %s", e.ident, other, k)
		}
		seen[k] = e.ident
	}
	plain := map[string]string{
		"sensor a value b_c": "a_b_c",
		"actuator job_x":     "job_x",
		"actuator p.q":       "p_q",
	}
	for _, e := range ents {
		if want, ok := plain[e.ident]; ok && e.object != want {
			t.Errorf("%s: object %q, want the plain %q", e.ident, e.object, want)
		}
	}
	again := build()
	for i := range ents {
		if ents[i].object != again[i].object {
			t.Errorf("%s: object %q then %q", ents[i].ident, ents[i].object, again[i].object)
		}
	}
}
