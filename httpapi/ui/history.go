package ui

import (
	"net/http"
	"strconv"

	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/sched"
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
		notFound(w, "no sensor "+strconv.Quote(name)+" in the config")
		return
	}
	out := historyJSON{Sensor: name, Step: int64(h.Store.Step().Seconds()), Series: h.Store.Series(name)}
	if out.Series == nil {
		out.Series = []history.Series{}
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, out) // finite numbers only: the store keeps no others
}

// notFound answers with the API's JSON not_found error.
func notFound(w http.ResponseWriter, msg string) {
	httpapi.WriteError(w, "", &sched.Error{Code: sched.CodeNotFound, Message: msg})
}
