// Package apitest holds the request tables every transport of the request
// pipeline (package api) runs: MQTT sends each entry as a request payload,
// HTTP as the route that means the same thing. One table, so that the
// transports cannot drift apart in what they refuse and how.
package apitest

import "fmt"

// JobDoc is the document of an interval job of the handler type "test".
func JobDoc(id string, seconds int) string {
	return fmt.Sprintf(`{"id":%q,"trigger":{"type":"interval","seconds":%d},"action":{"type":"test"}}`, id, seconds)
}

// Rejection is a request the pipeline refuses, changing nothing: Request
// is its JSON without an id; the reply has Code and an error containing
// ErrHas.
type Rejection struct {
	Name, Request, Code, ErrHas string
}

// Rejections need, before they run, a job "pump" added remotely
// (JobDoc("pump", 60), at version 1) and a job "fromfile" of the config
// file (JobDoc("fromfile", 60), not remote), on a scheduler with a "test"
// handler and no other.
var Rejections = []Rejection{
	{"add duplicate", `{"op":"add","job":` + JobDoc("pump", 5) + `}`, "conflict", "pump"},
	{"add bad trigger", `{"op":"add","job":{"id":"x","trigger":{"type":"date","run_date":"someday"},"action":{"type":"test"}}}`, "bad_request", "run_date"},
	{"add unknown action", `{"op":"add","job":{"id":"x","trigger":{"type":"interval","seconds":5},"action":{"type":"nope"}}}`, "bad_request", "action"},
	{"add read-only field", `{"op":"add","job":{"id":"x","version":3,"trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}}`, "bad_request", "job.version"},
	{"add reserved id", `{"op":"add","job":` + JobDoc("res", 5) + `}`, "bad_request", "job.id"},
	{"add bad id", `{"op":"add","job":{"id":"a/b","trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}}`, "bad_request", "job.id"},
	{"add no trigger", `{"op":"add","job":{"id":"x","action":{"type":"test"}}}`, "bad_request", "trigger"},
	{"add field wrong type", `{"op":"add","job":{"id":"x","coalesce":"yes","trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}}`, "bad_request", "job.coalesce"},
	{"add job array", `{"op":"add","job":[1]}`, "bad_request", "job"},
	{"modify missing", `{"op":"modify","job_id":"ghost","changes":{"name":"x"}}`, "not_found", "job"},
	{"modify version", `{"op":"modify","job_id":"pump","changes":{"name":"x"},"expected_version":7}`, "version_conflict", ""},
	{"modify unknown field", `{"op":"modify","job_id":"pump","changes":{"colour":"red"}}`, "bad_request", "changes.colour"},
	{"modify invalid trigger", `{"op":"modify","job_id":"pump","changes":{"trigger":{"type":"interval","seconds":-5}}}`, "bad_request", "trigger.seconds"},
	{"modify config job", `{"op":"modify","job_id":"fromfile","changes":{"name":"x"}}`, "conflict", ""},
	{"modify bad job id", `{"op":"modify","job_id":"a b","changes":{"name":"x"}}`, "bad_request", "job_id"},
	{"reschedule invalid", `{"op":"reschedule","job_id":"pump","trigger":{"type":"interval"}}`, "bad_request", "trigger"},
	{"reschedule missing", `{"op":"reschedule","job_id":"ghost","trigger":{"type":"interval","seconds":5}}`, "not_found", ""},
	{"pause missing", `{"op":"pause","job_id":"ghost"}`, "not_found", ""},
	{"pause version", `{"op":"pause","job_id":"pump","expected_version":9}`, "version_conflict", ""},
	{"resume missing", `{"op":"resume","job_id":"ghost"}`, "not_found", ""},
	{"remove missing", `{"op":"remove","job_id":"ghost"}`, "not_found", ""},
	{"remove version", `{"op":"remove","job_id":"pump","expected_version":2}`, "version_conflict", ""},
	{"remove config job", `{"op":"remove","job_id":"fromfile"}`, "conflict", ""},
	{"get missing", `{"op":"get","job_id":"ghost"}`, "not_found", ""},
	{"run missing", `{"op":"run","job_id":"ghost"}`, "not_found", ""},
	{"list expired", `{"op":"list","expires_at":"2020-01-01T00:00:00Z"}`, "expired", "expires_at"},
	{"add expired", `{"op":"add","job":` + JobDoc("late", 5) + `,"expires_at":"2020-01-01T00:00:00Z"}`, "expired", "expires_at"},
}
