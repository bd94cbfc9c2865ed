package api

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
// ErrNoID; an accepted JSON command has no duplicate key, no trailing
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
		sr, err := DecodeSetRequest(b)
		if sr.ID != "" && (!utf8.ValidString(sr.ID) || strings.ContainsRune(sr.ID, utf8.RuneError) || len(sr.ID) > maxRequestID) {
			t.Fatalf("id %q read", sr.ID)
		}
		if err != nil {
			if sched.ErrorCode(err) != sched.CodeBadRequest {
				t.Fatalf("error %v has code %s", err, sched.ErrorCode(err))
			}
			if sr.ID != "" && errors.Is(err, ErrNoID) {
				t.Fatalf("error %v marked unreadable although id %q was read", err, sr.ID)
			}
			return
		}
		if sr.Plain {
			if !bytes.Equal(sr.Command, b) {
				t.Fatalf("plain payload %q handed on as %q", b, sr.Command)
			}
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(sr.Command, &m) != nil {
			t.Fatalf("command %q is not a JSON object", sr.Command)
		}
		if _, ok := m["id"]; ok {
			t.Fatalf("command %q keeps the id", sr.Command)
		}
		if _, ok := m["expires_at"]; ok {
			t.Fatalf("command %q keeps expires_at", sr.Command)
		}
		if _, dup, trailing, err := decodeEnvelope(bytes.TrimSpace(b)); err != nil || dup != "" || trailing {
			t.Fatalf("accepted %q: dup %q trailing %v err %v", b, dup, trailing, err)
		}
	})
}
