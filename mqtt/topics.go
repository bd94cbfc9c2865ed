package mqtt

// Topics is the topic tree of one device: root = <prefix>/<device_id>.
type Topics struct {
	Prefix string
	Root   string
}

// NewTopics returns the topics of device id under prefix.
func NewTopics(prefix, deviceID string) Topics {
	return Topics{Prefix: prefix, Root: prefix + "/" + deviceID}
}

// Status is <root>/status: retained online / offline.
func (t Topics) Status() string { return t.Root + "/status" }

// Info is <root>/info: retained agent facts.
func (t Topics) Info() string { return t.Root + "/info" }

// Cmd is <root>/jobs/cmd, where requests arrive.
func (t Topics) Cmd() string { return t.Root + "/jobs/cmd" }

// GroupCmd is <prefix>/groups/<group>/jobs/cmd.
func (t Topics) GroupCmd(group string) string { return t.Prefix + "/groups/" + group + "/jobs/cmd" }

// Res is <root>/jobs/res, where replies go.
func (t Topics) Res() string { return t.Root + "/jobs/res" }

// Job is <root>/jobs/<id>: the retained job document.
func (t Topics) Job(id string) string { return t.Root + "/jobs/" + id }

// Events is <root>/events.
func (t Topics) Events() string { return t.Root + "/events" }

// Sensor is <root>/sensors/<name>.
func (t Topics) Sensor(name string) string { return t.Root + "/sensors/" + name }

// ActuatorState is <root>/actuators/<name>/state (retained).
func (t Topics) ActuatorState(name string) string { return t.Root + "/actuators/" + name + "/state" }

// ActuatorSet is <root>/actuators/<name>/set; "+" subscribes to all.
func (t Topics) ActuatorSet(name string) string { return t.Root + "/actuators/" + name + "/set" }

// actuatorFromSet returns the actuator name of a set topic.
func (t Topics) actuatorFromSet(topic string) (string, bool) {
	p := t.Root + "/actuators/"
	const s = "/set"
	if len(topic) <= len(p)+len(s) || topic[:len(p)] != p || topic[len(topic)-len(s):] != s {
		return "", false
	}
	name := topic[len(p) : len(topic)-len(s)]
	if validLevel(name) != nil {
		return "", false
	}
	return name, true
}
