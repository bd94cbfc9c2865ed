package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/edgecron/edgecron/sched"
)

func TestDecodeRequestAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want Request
	}{
		{`{"id":"r1","op":"list"}`, Request{ID: "r1", Op: "list"}},
		{`{"id":"r2","op":"get","job_id":"pump-1"}`, Request{ID: "r2", Op: "get", JobID: "pump-1"}},
		{`{"id":"r3","op":"add","job":{"id":"a", "name":"x"},"replace_existing":true}`,
			Request{ID: "r3", Op: "add", Job: json.RawMessage(`{"id":"a","name":"x"}`), ReplaceExisting: true}},
		{`{"id":"r4","op":"modify","job_id":"a","changes":{"name":null},"expected_version":3}`,
			Request{ID: "r4", Op: "modify", JobID: "a", Changes: json.RawMessage(`{"name":null}`), ExpectedVersion: 3}},
		{`{"id":"r5","op":"reschedule","job_id":"a","trigger":{"type":"interval","seconds":5}}`,
			Request{ID: "r5", Op: "reschedule", JobID: "a", Trigger: json.RawMessage(`{"type":"interval","seconds":5}`)}},
		{`{"id":"r6","op":"pause","job_id":"a","job":null}`, Request{ID: "r6", Op: "pause", JobID: "a"}},
		{`{"id":"r7","op":"run","job_id":"a"}`, Request{ID: "r7", Op: "run", JobID: "a"}},
		{`{"id":"r8","op":"remove","job_id":"a","expected_version":0}`, Request{ID: "r8", Op: "remove", JobID: "a"}},
		{` {"id":"r9","op":"resume","job_id":"a"} ` + "\n", Request{ID: "r9", Op: "resume", JobID: "a"}},
	}
	for _, tt := range tests {
		got, err := DecodeRequest([]byte(tt.in))
		if err != nil {
			t.Errorf("DecodeRequest(%s): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("DecodeRequest(%s) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	r, err := DecodeRequest([]byte(`{"id":"e","op":"list","expires_at":"2026-11-21T10:00:00+01:00"}`))
	if err != nil || r.ExpiresAt == nil || r.ExpiresAt.UTC().Hour() != 9 {
		t.Fatalf("expires_at: %+v %v", r, err)
	}
}

// TestDecodeRequestRefuses is the bad-payload table of the envelope: every
// entry is refused with an error naming the field; id says whether the
// request id could still be read (then the agent replies).
func TestDecodeRequestRefuses(t *testing.T) {
	big := `{"id":"big","op":"list","x":"` + strings.Repeat("a", MaxPayload) + `"}`
	tests := []struct {
		name, in, id, field string
	}{
		{"not json", `hello`, "", "payload"},
		{"truncated", `{"id":"a","op":"li`, "", "payload"},
		{"array", `[{"id":"a"}]`, "", "payload"},
		{"null", `null`, "", "payload"},
		{"empty", ``, "", "payload"},
		{"trailing", `{"id":"a","op":"list"} {}`, "a", "payload"},
		{"trailing garbage", `{"id":"a","op":"list"}x`, "a", "payload"},
		{"trailing after bad id", `{"id":7,"op":"list"} {}`, "", "id"},
		{"duplicate op", `{"id":"a","op":"get","job_id":"j","op":"remove"}`, "a", "op"},
		{"duplicate job_id", `{"id":"a","op":"remove","job_id":"j","job_id":"k"}`, "a", "job_id"},
		{"duplicate id", `{"id":"a","op":"list","id":"b"}`, "", "id"},
		{"id invalid utf-8", "{\"id\":\"a\xff\",\"op\":\"list\"}", "", "id"},
		{"id lone surrogate", `{"id":"a\udc00","op":"list"}`, "", "id"},
		{"id replacement char", `{"id":"a\ufffd","op":"list"}`, "", "id"},
		{"too big", big, "", "payload"},
		{"no id", `{"op":"list"}`, "", "id"},
		{"id number", `{"id":7,"op":"list"}`, "", "id"},
		{"id empty", `{"id":"","op":"list"}`, "", "id"},
		{"id long", `{"id":"` + strings.Repeat("x", 129) + `","op":"list"}`, "", "id"},
		{"no op", `{"id":"a"}`, "a", "op"},
		{"unknown op", `{"id":"a","op":"explode"}`, "a", "op"},
		{"op number", `{"id":"a","op":1}`, "a", "op"},
		{"unknown field", `{"id":"a","op":"list","colour":"red"}`, "a", "colour"},
		{"job_id missing", `{"id":"a","op":"get"}`, "a", "job_id"},
		{"job_id number", `{"id":"a","op":"get","job_id":5}`, "a", "job_id"},
		{"job_id bad", `{"id":"a","op":"get","job_id":"a/b"}`, "a", "job_id"},
		{"job missing", `{"id":"a","op":"add"}`, "a", "job"},
		{"job string", `{"id":"a","op":"add","job":"x"}`, "a", "job"},
		{"changes missing", `{"id":"a","op":"modify","job_id":"j"}`, "a", "changes"},
		{"changes array", `{"id":"a","op":"modify","job_id":"j","changes":[]}`, "a", "changes"},
		{"trigger missing", `{"id":"a","op":"reschedule","job_id":"j"}`, "a", "trigger"},
		{"trigger not allowed", `{"id":"a","op":"pause","job_id":"j","trigger":{}}`, "a", "trigger"},
		{"job with modify", `{"id":"a","op":"modify","job_id":"j","changes":{},"job":{}}`, "a", "job"},
		{"job_id with add", `{"id":"a","op":"add","job":{},"job_id":"j"}`, "a", "job_id"},
		{"replace with modify", `{"id":"a","op":"modify","job_id":"j","changes":{},"replace_existing":true}`, "a", "replace_existing"},
		{"replace string", `{"id":"a","op":"add","job":{},"replace_existing":"yes"}`, "a", "replace_existing"},
		{"version negative", `{"id":"a","op":"pause","job_id":"j","expected_version":-1}`, "a", "expected_version"},
		{"version fraction", `{"id":"a","op":"pause","job_id":"j","expected_version":1.5}`, "a", "expected_version"},
		{"version string", `{"id":"a","op":"pause","job_id":"j","expected_version":"3"}`, "a", "expected_version"},
		{"version with get", `{"id":"a","op":"get","job_id":"j","expected_version":3}`, "a", "expected_version"},
		{"expires bad", `{"id":"a","op":"list","expires_at":"tomorrow"}`, "a", "expires_at"},
		{"expires number", `{"id":"a","op":"list","expires_at":12}`, "a", "expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.in))
			if err == nil {
				t.Fatalf("accepted %s", tt.in)
			}
			if got.ID != tt.id {
				t.Errorf("id = %q, want %q", got.ID, tt.id)
			}
			if noID := errors.Is(err, ErrNoID); noID != (tt.id == "") {
				t.Errorf("ErrNoID = %v for id %q", noID, tt.id)
			}
			var se *sched.Error
			if !errors.As(err, &se) || se.Code != sched.CodeBadRequest || se.Field != tt.field {
				t.Errorf("error %v: want bad_request naming %q", err, tt.field)
			}
		})
	}
}

// TestDecodeRequestReadsTheOpFirst: a request refused for a field that
// sorts before "op" still carries its op, which the agent logs.
func TestDecodeRequestReadsTheOpFirst(t *testing.T) {
	for in, op := range map[string]string{
		`{"id":"a","op":"modify","job_id":"j","changes":[]}`:                 "modify",
		`{"id":"a","op":"pause","job_id":"j","expected_version":-1}`:         "pause",
		`{"id":"a","op":"list","expires_at":"tomorrow"}`:                     "list",
		`{"id":"a","op":"list","colour":"red"}`:                              "list",
		`{"id":"a","op":"add","job":"x"}`:                                    "add",
		`{"id":"a","changes":[],"job_id":"j","op":"modify","expires_at":12}`: "modify",
	} {
		got, err := DecodeRequest([]byte(in))
		if err == nil {
			t.Errorf("accepted %s", in)
		}
		if got.Op != op {
			t.Errorf("DecodeRequest(%s): op %q, want %q (err %v)", in, got.Op, op, err)
		}
	}
}

func TestPrefixField(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{sched.FieldError("trigger.hour", "bad"), "job.trigger.hour: bad"},
		{sched.FieldError("", "bad"), "job: bad"},
		{sched.FieldError("job", "bad"), "job: bad"},
		{errors.New("boom"), "job: boom"},
	}
	for _, tt := range tests {
		got := prefixField("job", tt.err)
		if got.Error() != tt.want || sched.ErrorCode(got) != sched.CodeBadRequest {
			t.Errorf("prefixField(%v) = %v (%s), want %s", tt.err, got, sched.ErrorCode(got), tt.want)
		}
	}
	if prefixField("job", nil) != nil {
		t.Error("nil error prefixed")
	}
}

// FuzzDecodeRequest: no input panics; an accepted request re-encodes to
// one that decodes to the same request.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"id":"r1","op":"list"}`,
		`{"id":"r3","op":"add","job":{"id":"a"},"replace_existing":true}`,
		`{"id":"r4","op":"modify","job_id":"a","changes":{"name":null},"expected_version":3}`,
		`{"id":"r5","op":"reschedule","job_id":"a","trigger":{"type":"cron","hour":"6"}}`,
		`{"id":"x","op":"list","expires_at":"2026-01-01T00:00:00Z"}`,
		`{"id":1}`, `[]`, `null`, `{"id":"a","op":"get","job_id":"\u00e9"}`,
		`{"id":"a","op":"get","job_id":"j","op":"remove"}`, `{"id":"a","op":"list"} {}`,
		`{"id":"a\udc00","op":"list"}`, "{\"id\":\"\xfe\",\"op\":\"list\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if r.ID != "" && (!utf8.ValidString(r.ID) || strings.ContainsRune(r.ID, utf8.RuneError)) {
			t.Fatalf("id %q read: two such ids could collide in the replay cache", r.ID)
		}
		if err != nil {
			if sched.ErrorCode(err) != sched.CodeBadRequest {
				t.Fatalf("error %v has code %s", err, sched.ErrorCode(err))
			}
			if errors.Is(err, ErrNoID) != (r.ID == "") {
				t.Fatalf("error %v with id %q: a readable id must get a reply", err, r.ID)
			}
			return
		}
		if m, dup, trailing, err := decodeEnvelope(b); err != nil || dup != "" || trailing || m == nil {
			t.Fatalf("accepted %q: envelope dup %q trailing %v err %v", b, dup, trailing, err)
		}
		// Without HTML escaping: json.Marshal would write "&" in a raw
		// member as \u0026, the same JSON in other bytes.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatalf("marshal %+v: %v", r, err)
		}
		again := buf.Bytes()
		r2, err := DecodeRequest(again)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", again, err)
		}
		if r.ExpiresAt != nil && r2.ExpiresAt != nil && r.ExpiresAt.Equal(*r2.ExpiresAt) {
			r2.ExpiresAt = r.ExpiresAt
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip changed %+v into %+v", r, r2)
		}
	})
}
