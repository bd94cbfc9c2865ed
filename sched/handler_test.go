package sched_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/edgecron/edgecron/sched"
)

type decodeParams struct {
	Actuator string   `json:"actuator"`
	Duration string   `json:"duration"`
	Value    *float64 `json:"value"`
	Tags     []string `json:"tags"`
	Extra    struct {
		Type string `json:"type"`
	} `json:"extra"`
}

func TestActionDecode(t *testing.T) {
	one := 1.0
	tests := []struct {
		raw   string
		want  decodeParams
		field string // of the error; "" for none
	}{
		{raw: `{"type":"actuate","actuator":"pump","duration":"30s"}`, want: decodeParams{Actuator: "pump", Duration: "30s"}},
		{raw: `{"actuator":"pump","type":"actuate","value":1}`, want: decodeParams{Actuator: "pump", Value: &one}},
		{raw: ` { "actuator" : "a,}]" , "type" : "x" , "tags" : ["}", "{\"type\""] } `, want: decodeParams{Actuator: "a,}]", Tags: []string{"}", `{"type"`}}},
		{raw: `{"type":"x","extra":{"type":"inner"}}`, want: decodeParams{Extra: struct {
			Type string `json:"type"`
		}{"inner"}}},
		{raw: `{"\u0074ype":"x","actuator":"a"}`, want: decodeParams{Actuator: "a"}},
		{raw: `{"type":"x"}`},
		{raw: `{}`},
		{raw: `{"type":"x","Type":"y"}`, field: "action.Type"},
		{raw: `{"type":"x","pump":"a"}`, field: "action.pump"},
		{raw: `{"type":"x","value":"high"}`, field: "action.value"},
		{raw: `{"type":"x","tags":"a"}`, field: "action.tags"},
		{raw: `{"type":[},"actuator":"a"}`, field: "action"},
		{raw: `{"type":"x","actuator":tru}`, field: "action"},
		{raw: `{"type":"x","actuator":"a"} {}`, field: "action"},
		{raw: `{"type":"x" "actuator":"a"}`, field: "action"},
		{raw: `{"type":"x",}`, field: "action"},
		{raw: `["type"]`, field: "action"},
		{raw: `null`, field: "action"},
		{raw: ``, field: "action"},
	}
	for _, tc := range tests {
		var got decodeParams
		err := sched.Action{Type: "x", Raw: json.RawMessage(tc.raw)}.Decode(&got)
		if tc.field != "" {
			var se *sched.Error
			if !errorsAs(err, &se) || se.Field != tc.field || se.Code != sched.CodeBadRequest {
				t.Errorf("Decode(%s) = %v, want a bad_request error on %s", tc.raw, err, tc.field)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Decode(%s) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
}

func errorsAs(err error, se **sched.Error) bool {
	e, ok := err.(*sched.Error)
	*se = e
	return ok
}

// decodeByMap is how Decode worked before it cut "type" out of the bytes:
// through a map and back. It is the reference FuzzActionDecode compares with.
func decodeByMap(raw []byte, v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return sched.FieldError("action", "must be a JSON object")
	}
	delete(m, "type")
	b, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// distinctNames reports whether raw is an object whose top-level member
// names are all different (a repeated name is read last-wins by a map,
// in order by a struct: the two ways may then disagree, and both are fine).
func distinctNames(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		name := strings.ToLower(tok.(string)) // struct fields match either case
		if seen[name] {
			return false
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
	}
	return true
}

func FuzzActionDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"actuate","actuator":"pump","duration":"30s"}`,
		`{"actuator":"pump","type":"actuate","value":1,"tags":["a","}"]}`,
		`{"\u0074ype":"x","extra":{"type":"y"}}`,
		`{"type":[},"actuator":"a"}`,
		`{"type":"x","pump":1}`,
		` {"type" : "x" , "value" : "1" } `,
		`{}`, `null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var got, want decodeParams
		err := sched.Action{Type: "x", Raw: raw}.Decode(&got)
		if err == nil && !json.Valid(raw) {
			t.Fatalf("Decode accepted invalid JSON %q", raw)
		}
		if !json.Valid(raw) || !utf8.Valid(raw) || !distinctNames(raw) {
			return
		}
		werr := decodeByMap(raw, &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Decode(%q) = %v; through a map: %v", raw, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) = %+v; through a map: %+v", raw, got, want)
		}
	})
}
