package mqtt

import (
	"encoding/json"
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

// inGroup reports whether the device's config lists group.
func (a *Agent) inGroup(group string) bool {
	for _, g := range a.deps.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// publishMembership announces the device in each of its groups (at every
// connection: a broker restarted without persistence has lost them).
func (a *Agent) publishMembership() {
	doc := a.memberDoc()
	for _, g := range a.deps.Groups {
		a.cur().Publish(a.topics.Member(g, a.deps.DeviceID), 1, true, doc)
	}
}

// leaveGroup clears the member document of a group the device is no
// longer in. It goes through the outbox: a clear must not be lost.
func (a *Agent) leaveGroup(group string) {
	if a.inGroup(group) {
		return
	}
	a.log.Info("left group: clearing its member document", "group", group)
	a.keep(outMsg{Topic: a.topics.Member(group, a.deps.DeviceID), QoS: 1, Retain: true, TS: a.clock.Now(), Payload: []byte{}})
}
