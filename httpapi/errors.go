package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/edgecron/edgecron/sched"
)

// Codes of HTTP refusals that have no MQTT counterpart: MQTT has no
// credentials per message, no methods and no media types.
const (
	CodeUnauthorized     sched.Code = "unauthorized"
	CodeMethodNotAllowed sched.Code = "method_not_allowed"
	CodeTooLarge         sched.Code = "too_large"
	CodeUnsupportedMedia sched.Code = "unsupported_media_type"
	CodeForbidden        sched.Code = "forbidden"
)

// ErrorBody is the JSON of every error response: the MQTT reply's fields
// for a rejection (docs/mqtt.md), with the request id when one was given.
type ErrorBody struct {
	ID     string     `json:"id,omitempty"`
	Status string     `json:"status"` // always "rejected"
	Code   sched.Code `json:"code"`
	Error  string     `json:"error"`
}

// StatusOf is the HTTP status of an error code.
func StatusOf(code sched.Code) int {
	switch code {
	case sched.CodeOK:
		return http.StatusOK
	case sched.CodeBadRequest:
		return http.StatusBadRequest
	case sched.CodeNotFound:
		return http.StatusNotFound
	case sched.CodeConflict, sched.CodeVersionConflict, sched.CodeUnsafe:
		return http.StatusConflict
	case sched.CodeExpired:
		return http.StatusGone
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

// WriteError answers with err as JSON: its code (sched.ErrorCode) and the
// status that goes with it. id is the request id, if any.
func WriteError(w http.ResponseWriter, id string, err error) {
	code := sched.ErrorCode(err)
	WriteJSON(w, StatusOf(code), ErrorBody{ID: id, Status: "rejected", Code: code, Error: err.Error()})
}

// WriteJSON answers with v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(ErrorBody{Status: "rejected", Code: sched.CodeInternal, Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// refuse answers with an HTTP-only code.
func refuse(w http.ResponseWriter, code sched.Code, msg string) {
	WriteJSON(w, StatusOf(code), ErrorBody{Status: "rejected", Code: code, Error: msg})
}
