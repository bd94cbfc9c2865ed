package publish

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxTopicLen is the longest topic name or filter MQTT can carry, in bytes.
const MaxTopicLen = 65535

// ValidTopic checks a topic name one publishes to (MQTT 3.1.1 §4.7): not
// empty, at most MaxTopicLen bytes of UTF-8, no NUL and no wildcard.
func ValidTopic(topic string) error {
	if err := validText(topic); err != nil {
		return err
	}
	if strings.ContainsAny(topic, "+#") {
		return errors.New("a topic to publish to must not contain the wildcards + or #")
	}
	return nil
}

// ValidFilter checks a topic filter: like a topic name, but '+' may stand
// for one whole level and '#', as the last level, for any number of levels.
func ValidFilter(filter string) error {
	if err := validText(filter); err != nil {
		return err
	}
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return fmt.Errorf("'#' must be the last level of a filter (level %d of %d)", i+1, len(levels))
		case l == "#", l == "+":
		case strings.ContainsAny(l, "+#"):
			return fmt.Errorf("a wildcard must fill a whole level, not be part of %q", l)
		}
	}
	return nil
}

func validText(s string) error {
	switch {
	case s == "":
		return errors.New("must not be empty")
	case len(s) > MaxTopicLen:
		return fmt.Errorf("is %d bytes long; MQTT allows %d", len(s), MaxTopicLen)
	case !utf8.ValidString(s):
		return errors.New("must be valid UTF-8")
	case strings.ContainsRune(s, 0):
		return errors.New("must not contain a NUL character")
	}
	return nil
}

// Match reports whether topic matches filter (MQTT 3.1.1 §4.7): '+' matches
// exactly one level (possibly empty), '#' the parent level and any number of
// levels below it. As in MQTT, a filter starting with a wildcard does not
// match a topic starting with '$' ($SYS and the like). Both arguments are
// expected to be valid; Match never panics on others.
func Match(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" && !fmore {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		switch {
		case fmore && tmore:
			filter, topic = frest, trest
		case !fmore && !tmore:
			return true
		case fmore && frest == "#":
			return true // "a/#" matches "a"
		default:
			return false
		}
	}
}
