package publish

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"home/x/set", "home/x/set", true},
		{"home/x/set", "home/y/set", false},
		{"home/x/set", "home/x/set/more", false},
		{"home/x/set", "home/x", false},
		{"home/+/set", "home/x/set", true},
		{"home/+/set", "home//set", true}, // + matches an empty level
		{"home/+/set", "home/x/y/set", false},
		{"home/+", "home", false},
		{"home/+", "home/", true},
		{"home/#", "home", true}, // # includes the parent level
		{"home/#", "home/", true},
		{"home/#", "home/a/b/c", true},
		{"home/#", "homes/a", false},
		{"#", "anything/at/all", true},
		{"#", "/", true},
		{"+", "/", false},
		{"+/+", "/", true},
		{"/+", "/x", true},
		{"/+", "x", false},
		{"+/#", "a", true},
		{"#", "$SYS/uptime", false}, // wildcards never open $ topics
		{"+/uptime", "$SYS/uptime", false},
		{"$SYS/#", "$SYS/uptime", true},
		{"home/+/set", "Home/x/set", false}, // case matters
	}
	for _, tt := range tests {
		if got := Match(tt.filter, tt.topic); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestValidFilterAndTopic(t *testing.T) {
	tests := []struct {
		s             string
		filter, topic string // "" when valid, else part of the error
	}{
		{"home/x/set", "", ""},
		{"home/+/set", "", "wildcards"},
		{"home/#", "", "wildcards"},
		{"#", "", "wildcards"},
		{"/", "", ""},
		{"", "must not be empty", "must not be empty"},
		{"home/#/set", "must be the last level", "wildcards"},
		{"home/x+/set", "whole level", "wildcards"},
		{"home/x#", "whole level", "wildcards"},
		{"a\x00b", "NUL", "NUL"},
		{"a\xffb", "UTF-8", "UTF-8"},
		{strings.Repeat("a", MaxTopicLen+1), "MQTT allows 65535", "MQTT allows 65535"},
	}
	check := func(kind, s string, err error, want string) {
		if want == "" && err != nil {
			t.Errorf("%s(%.20q) = %v, want nil", kind, s, err)
		}
		if want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s(%.20q) = %v, want an error about %q", kind, s, err, want)
		}
	}
	for _, tt := range tests {
		check("ValidFilter", tt.s, ValidFilter(tt.s), tt.filter)
		check("ValidTopic", tt.s, ValidTopic(tt.s), tt.topic)
	}
}

// refMatch is an independent implementation of MQTT matching, by regular
// expression, for differential fuzzing.
func refMatch(filter, topic string) bool {
	if topic != "" && topic[0] == '$' && filter != "" && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	var b strings.Builder
	b.WriteString("^")
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		switch {
		case l == "#":
			// "a/#" also matches "a": the separator before # is optional.
			if i == 0 {
				return true
			}
			s := b.String()
			b.Reset()
			b.WriteString(strings.TrimSuffix(s, "/") + "(/.*)?")
		case l == "+":
			b.WriteString("[^/]*")
		default:
			b.WriteString(regexp.QuoteMeta(l))
		}
		if i < len(levels)-1 {
			b.WriteString("/")
		}
	}
	b.WriteString("$")
	return regexp.MustCompile("(?s)" + b.String()).MatchString(topic)
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"home/+/set", "home/x/set"}, {"home/#", "home"}, {"#", "$SYS/x"}, {"+/+", "/"},
		{"a/+/#", "a/b"}, {"/#", "/"}, {"+", ""}, {"a//b", "a//b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		got := Match(filter, topic) // must not panic on anything
		if ValidFilter(filter) != nil || ValidTopic(topic) != nil {
			return
		}
		if want := refMatch(filter, topic); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", filter, topic, got, want)
		}
		if !Match(topic, topic) {
			t.Fatalf("topic %q does not match itself as a filter", topic)
		}
		if topic[0] != '$' && !Match("#", topic) {
			t.Fatalf("# does not match %q", topic)
		}
	})
}

func ExampleMatch() {
	fmt.Println(Match("home/+/set", "home/kitchen/set"))
	fmt.Println(Match("home/+/set", "home/kitchen/light/set"))
	fmt.Println(Match("home/#", "home/kitchen/light/set"))
	fmt.Println(Match("#", "$SYS/broker/uptime"))
	// Output:
	// true
	// false
	// true
	// false
}
