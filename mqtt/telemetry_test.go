package mqtt

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

func TestHistorical(t *testing.T) {
	tests := []struct {
		m    outMsg
		want string
	}{
		{outMsg{Mark: true, Payload: []byte(`{"ts":"x","values":{}}`)}, `{"historical":true,"ts":"x","values":{}}`},
		{outMsg{Mark: true, Payload: []byte(` { } `)}, `{"historical":true}`},
		{outMsg{Mark: false, Payload: []byte(`{"a":1}`)}, `{"a":1}`},
		{outMsg{Mark: true, Payload: []byte(`ON`)}, `ON`},
		{outMsg{Mark: true, Payload: []byte(``)}, ``},
	}
	for _, tt := range tests {
		got := string(tt.m.historical())
		if got != tt.want {
			t.Errorf("historical(%s) = %s, want %s", tt.m.Payload, got, tt.want)
		}
		if tt.m.Mark && json.Valid(tt.m.Payload) && !json.Valid([]byte(got)) {
			t.Errorf("historical(%s) = %s is not JSON", tt.m.Payload, got)
		}
	}
}

// FuzzRecord: outbox records round-trip; no input panics the decoder, and
// a marked JSON object stays valid JSON when marked historical.
func FuzzRecord(f *testing.F) {
	f.Add("p/d/sensors/air", byte(1), true, true, []byte(`{"ts":"2026-11-21T09:00:00Z","values":{"t":1}}`))
	f.Add("p/d/jobs/x", byte(1), true, false, []byte{})
	f.Add("t", byte(0), false, false, []byte("ON"))
	f.Fuzz(func(t *testing.T, topic string, qos byte, retain, mark bool, payload []byte) {
		if !utf8.ValidString(topic) {
			return // MQTT topics are UTF-8; Publish refuses others
		}
		m := outMsg{Topic: topic, QoS: qos % 3, Retain: retain, Mark: mark, TS: time.Unix(0, int64(len(payload))).UTC(), Payload: payload}
		got, err := decodeRecord(encodeRecord(m))
		if topic == "" {
			if err == nil {
				t.Fatal("record without topic accepted")
			}
			return
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(got.Payload) == 0 && len(m.Payload) == 0 {
			got.Payload = m.Payload
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip %+v -> %+v", m, got)
		}
		decodeRecord(payload) // arbitrary bytes must not panic
		if mark && json.Valid(payload) {
			var obj map[string]any
			if json.Unmarshal(payload, &obj) == nil && !json.Valid(m.historical()) {
				t.Fatalf("historical(%q) = %q is not JSON", payload, m.historical())
			}
		}
	})
}
