package mqtt

import "testing"

// FuzzMemberTopic: what memberFromTopic accepts is exactly a member topic
// of a valid group and device, and every such topic is accepted.
func FuzzMemberTopic(f *testing.F) {
	for _, s := range []string{"p/groups/g/members/d", "p/groups/g/members/", "p/groups//members/d",
		"p/groups/g/members/d/x", "p/groups/g/jobs/cmd", "q/groups/g/members/d", "p/groups/+/members/#"} {
		f.Add(s)
	}
	t := Topics{Prefix: "p"}
	f.Fuzz(func(tt *testing.T, topic string) {
		g, d, ok := t.memberFromTopic(topic)
		if !ok {
			return
		}
		if validLevel(g) != nil || validLevel(d) != nil || t.Member(g, d) != topic {
			tt.Fatalf("%q → group %q, device %q", topic, g, d)
		}
		if dev, rest, ok := cutDevice("p", topic); !ok || dev != "groups" || "p/"+dev+"/"+rest != topic {
			tt.Fatalf("cutDevice(%q) = %q, %q, %v", topic, dev, rest, ok)
		}
	})
}

func TestMemberTopic(t *testing.T) {
	tp := Topics{Prefix: "edgecron"}
	for _, tt := range []struct {
		topic    string
		group    string
		device   string
		accepted bool
	}{
		{"edgecron/groups/north/members/pi-1", "north", "pi-1", true},
		{"edgecron/groups/north/jobs/cmd", "", "", false},
		{"edgecron/groups/north/members/pi-1/x", "", "", false},
		{"edgecron/groups/+/members/pi-1", "", "", false},
		{"other/groups/north/members/pi-1", "", "", false},
	} {
		g, d, ok := tp.memberFromTopic(tt.topic)
		if ok != tt.accepted || g != tt.group || d != tt.device {
			t.Errorf("%s → %q %q %v", tt.topic, g, d, ok)
		}
	}
}
