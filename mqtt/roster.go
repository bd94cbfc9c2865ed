package mqtt

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The roster: each agent keeps, for every group it is in, a retained
// member document on <prefix>/groups/<group>/members/<device_id>. The
// document only says who the member is and where its online state lives
// (<root>/status, kept by the birth message and the one Last Will), so a
// device going offline stays listed as a member: "who missed this command"
// is answerable. An agent that starts with a group removed from its config
// clears its member document of that group at its first connection (the
// broker sends the retained documents back on its subscription).

// Member is the retained document of one group member.
type Member struct {
	DeviceID string `json:"device_id"`
	Status   string `json:"status"` // the member's status topic
}

// Member is <prefix>/groups/<group>/members/<device_id>.
func (t Topics) Member(group, deviceID string) string {
	return t.Prefix + "/groups/" + group + "/members/" + deviceID
}

// memberFromTopic returns the group and device of a member topic.
func (t Topics) memberFromTopic(topic string) (group, device string, ok bool) {
	rest, ok := strings.CutPrefix(topic, t.Prefix+"/groups/")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "members" || validLevel(parts[0]) != nil || validLevel(parts[2]) != nil {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// memberDoc is this device's member document.
func (a *Agent) memberDoc() []byte {
	b, _ := json.Marshal(Member{DeviceID: a.deps.DeviceID, Status: a.topics.Status()})
	return b
}

// Groups returns the groups the device is in.
func (a *Agent) Groups() []string {
	a.groupsMu.Lock()
	defer a.groupsMu.Unlock()
	return append([]string(nil), a.groups...)
}

// inGroup reports whether the device is in group.
func (a *Agent) inGroup(group string) bool {
	for _, g := range a.Groups() {
		if g == group {
			return true
		}
	}
	return false
}

// SetGroups makes groups the device's groups (a config reload): it takes
// the commands of the new ones and announces itself in them, stops taking
// those of the groups it left and clears its member documents there. While
// disconnected, the next connection does it: it subscribes to the groups
// it is in, and the broker sends back the member documents of the groups
// it left.
func (a *Agent) SetGroups(groups []string) error {
	for _, g := range groups {
		if err := validLevel(g); err != nil {
			return fmt.Errorf("groups: %w", err)
		}
	}
	a.groupsMu.Lock()
	old := a.groups
	a.groups = append([]string(nil), groups...)
	a.groupsMu.Unlock()
	in := func(list []string, g string) bool {
		for _, x := range list {
			if x == g {
				return true
			}
		}
		return false
	}
	var joined []string
	for _, g := range groups {
		if !in(old, g) {
			joined = append(joined, g)
		}
	}
	for _, g := range old {
		if !in(groups, g) {
			a.leaveGroup(g)
		}
	}
	if len(joined) == 0 || !a.Connected() {
		a.flushSoon() // <root>/info lists the groups
		return nil
	}
	c := a.cur()
	filters := map[string]byte{}
	for _, g := range joined {
		filters[a.topics.GroupCmd(g)] = 1
	}
	c.SubscribeMultiple(filters, nil) // not waited for: a lost connection subscribes again at the next
	doc := a.memberDoc()
	for _, g := range joined {
		c.Publish(a.topics.Member(g, a.deps.DeviceID), 1, true, doc)
	}
	a.log.Info("groups changed", "groups", groups, "joined", joined)
	a.flushSoon()
	return nil
}

// publishMembership announces the device in each of its groups (at every
// connection: a broker restarted without persistence has lost them).
func (a *Agent) publishMembership() {
	doc := a.memberDoc()
	for _, g := range a.Groups() {
		a.cur().Publish(a.topics.Member(g, a.deps.DeviceID), 1, true, doc)
	}
}

// leaveGroup clears the member document of a group the device is no
// longer in (through the outbox: a clear must not be lost) and ends the
// subscription to its commands, which the persistent session would keep.
func (a *Agent) leaveGroup(group string) {
	if a.inGroup(group) {
		return
	}
	a.log.Info("left group: clearing its member document", "group", group)
	a.keep(outMsg{Topic: a.topics.Member(group, a.deps.DeviceID), QoS: 1, Retain: true, TS: a.clock.Now(), Payload: []byte{}})
	if a.Connected() {
		a.cur().Unsubscribe(a.topics.GroupCmd(group))
	}
}
