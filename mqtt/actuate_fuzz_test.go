package mqtt

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/edgecron/edgecron/sched"
)

// FuzzDecodeSetRequest: no input panics; a plain payload passes through
// untouched; an id read is valid UTF-8 without U+FFFD (so two malformed
// ids never meet in the replay cache); an error without an id is marked
// errNoID; an accepted JSON command has no duplicate key, no trailing
// data, and keeps neither id nor expires_at in the command handed on.
func FuzzDecodeSetRequest(f *testing.F) {
	for _, s := range []string{
		`ON`, `off`, ` TOGGLE `, ``, `{}`,
		`{"command":"pulse","duration":"5s"}`,
		`{"id":"a","command":"on","expires_at":"2026-01-01T00:00:00Z"}`,
		`{"id":"a","command":"on","command":"off"}`, `{"id":"a","command":"on"} x`,
		`{"id":"a\udc00","command":"on"}`, "{\"id\":\"\xff\",\"command\":\"on\"}",
		`{"id":7}`, `{"id":null,"command":"on"}`, `{"expires_at":5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sr, err := decodeSetRequest(b)
		if sr.id != "" && (!utf8.ValidString(sr.id) || strings.ContainsRune(sr.id, utf8.RuneError) || len(sr.id) > maxRequestID) {
			t.Fatalf("id %q read", sr.id)
		}
		if err != nil {
			if sched.ErrorCode(err) != sched.CodeBadRequest {
				t.Fatalf("error %v has code %s", err, sched.ErrorCode(err))
			}
			if sr.id != "" && errors.Is(err, errNoID) {
				t.Fatalf("error %v marked unreadable although id %q was read", err, sr.id)
			}
			return
		}
		if sr.plain {
			if !bytes.Equal(sr.command, b) {
				t.Fatalf("plain payload %q handed on as %q", b, sr.command)
			}
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(sr.command, &m) != nil {
			t.Fatalf("command %q is not a JSON object", sr.command)
		}
		if _, ok := m["id"]; ok {
			t.Fatalf("command %q keeps the id", sr.command)
		}
		if _, ok := m["expires_at"]; ok {
			t.Fatalf("command %q keeps expires_at", sr.command)
		}
		if _, dup, trailing, err := decodeEnvelope(bytes.TrimSpace(b)); err != nil || dup != "" || trailing {
			t.Fatalf("accepted %q: dup %q trailing %v err %v", b, dup, trailing, err)
		}
	})
}
