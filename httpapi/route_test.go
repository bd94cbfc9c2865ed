package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRoutes checks the router against what ServeMux did for the same
// patterns: exact paths, one segment per wildcard (unescaped), HEAD with
// GET, and the methods a path takes when the method is wrong.
func TestRoutes(t *testing.T) {
	var rs routes
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Route", name+" id="+r.PathValue("id"))
		})
	}
	rs.add("GET /{$}", named("root"))
	rs.add("GET /jobs", named("list"))
	rs.add("POST /jobs", named("add"))
	rs.add("GET /jobs/{id}", named("get"))
	rs.add("DELETE /jobs/{id}", named("remove"))
	rs.add("POST /jobs/{id}/run", named("run"))
	for _, tc := range []struct {
		method, target string
		want           string // the route's name and id; "" for none
		allow          string
	}{
		{"GET", "/", "root id=", ""},
		{"HEAD", "/", "root id=", ""},
		{"GET", "/jobs", "list id=", ""},
		{"POST", "/jobs", "add id=", ""},
		{"GET", "/jobs/pump", "get id=pump", ""},
		{"GET", "/jobs/a%2Fb", "get id=a/b", ""},
		{"DELETE", "/jobs/pump?expected_version=2", "remove id=pump", ""},
		{"POST", "/jobs/pump/run", "run id=pump", ""},
		{"PUT", "/jobs/pump", "", "DELETE, GET, HEAD"},
		{"DELETE", "/jobs", "", "GET, HEAD, POST"},
		{"GET", "/jobs/pump/run", "", "POST"},
		{"POST", "/", "", "GET, HEAD"},
		{"GET", "/jobs/", "", ""},
		{"GET", "/jobs/pump/", "", ""},
		{"GET", "/jobs//run", "", ""},
		{"GET", "/jobs/../jobs", "", ""},
		{"GET", "/jobs/%2e%2e", "", ""},
		{"GET", "/nowhere", "", ""},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		h, allow := rs.find(r)
		got := ""
		if h != nil {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got = w.Header().Get("X-Route")
		}
		if got != tc.want || strings.Join(allow, ", ") != tc.allow {
			t.Errorf("%s %s: route %q, allow %q; want %q, %q", tc.method, tc.target, got, allow, tc.want, tc.allow)
		}
	}
}

func TestRouteRefused(t *testing.T) {
	for _, p := range []string{"/jobs", "GET jobs", " /jobs", "GET /jobs"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%q: no panic", p)
				}
			}()
			var rs routes
			rs.add("GET /jobs", http.NotFoundHandler())
			rs.add(p, http.NotFoundHandler())
		}()
	}
}
