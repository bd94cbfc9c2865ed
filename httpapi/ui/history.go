package ui

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/edgecron/edgecron/sensors/history"
)

// Sensors is what the history endpoint asks of the sensor registry.
type Sensors interface {
	Has(name string) bool
}

// History serves GET /sensors/{name}/history: the sensor's recent values
// from a history.Store, as
//
//	{"sensor":"air","step":60,"series":[{"name":"temperature","unit":"°C","t":[...],"v":[...]}]}
//
// t are Unix seconds (the start of each step-long bucket), v the mean of
// the readings in it, oldest first; series is empty until the sensor's
// first reading.
type History struct {
	Store   *history.Store
	Sensors Sensors
}

type historyJSON struct {
	Sensor string           `json:"sensor"`
	Step   int64            `json:"step"`
	Series []history.Series `json:"series"`
}

func (h *History) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !h.Sensors.Has(name) {
		writeError(w, http.StatusNotFound, "not_found", "no sensor "+strconv.Quote(name)+" in the config")
		return
	}
	out := historyJSON{Sensor: name, Step: int64(h.Store.Step().Seconds()), Series: h.Store.Series(name)}
	if out.Series == nil {
		out.Series = []history.Series{}
	}
	b, err := json.Marshal(out)
	if err != nil { // the store keeps finite numbers only
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// writeError writes the API's JSON error.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
