package sched

import (
	"encoding/json"
	"math"
	"strconv"
)

// The job document is written by appending to one byte slice (Job's and
// TriggerSpec's appendJSON) rather than through encoding/json: the agent
// writes a job's document for every acknowledged change, twice (the
// reply and the retained state), and json.Marshal's reflection, its
// per-field allocations and its second pass over a MarshalJSON method's
// output were a third of the CPU of the agent's own answer to a change
// (api's BenchmarkAnswerModify). The bytes are the ones encoding/json
// writes, HTML escapes included: the helpers below take the short way
// only where it writes the same bytes, and fall back to json.Marshal
// elsewhere (FuzzAppendString and FuzzAppendNumber compare them with
// json.Marshal, FuzzJobJSON the job document with the encoders it had).

// appendString appends s as a JSON string, as json.Marshal writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendNumber appends f as json.Marshal writes a float64; NaN and the
// infinities are an error, as there.
func appendNumber(b []byte, f float64) ([]byte, error) {
	if a := math.Abs(f); a == 0 || a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64), nil // json.Marshal's own format in this range
	}
	v, err := json.Marshal(f)
	return append(b, v...), err
}
