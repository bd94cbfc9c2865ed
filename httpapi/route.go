package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// routes is the listener's table of routes, all of the routing the
// agent's fixed paths need. A route is a method and a path whose segments
// are literal or a wildcard, "{name}", which takes one whole segment
// (not an empty one, "." or "..") and is read back with r.PathValue(name);
// "/{$}" is the root alone. Every path matches exactly: there are no
// prefixes, no hosts and no redirects.
//
// net/http's ServeMux would do the same, and link its pattern parser and
// conflict checker with it: 15 KB of the armv6 binary (docs/footprint.md).
type routes []route

type route struct {
	method string   // GET also answers HEAD
	segs   []string // the path's segments after the first "/"
	h      http.Handler
}

// add registers h for pattern, "METHOD /path"; it panics on a pattern it
// cannot read or one registered twice, as ServeMux does. Routes are
// tried in the order added.
func (rs *routes) add(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		panic("httpapi: route " + pattern + ": not \"METHOD /path\"")
	}
	rt := route{method: method, segs: strings.Split(strings.TrimSuffix(path, "{$}")[1:], "/"), h: h}
	for _, o := range *rs {
		if o.method == method && slices.Equal(o.segs, rt.segs) {
			panic("httpapi: route " + pattern + " registered twice")
		}
	}
	*rs = append(*rs, rt)
}

// find returns the route that takes r, with r's path values set; or,
// when none does, the methods the path takes (none: no such path).
func (rs routes) find(r *http.Request) (h http.Handler, allow []string) {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		return nil, nil
	}
	segs := strings.Split(path[1:], "/")
	for i, s := range segs {
		if strings.IndexByte(s, '%') < 0 {
			continue
		}
		var err error
		if segs[i], err = url.PathUnescape(s); err != nil {
			return nil, nil
		}
	}
	for i := range rs {
		rt := &rs[i]
		if !rt.matches(segs) {
			continue
		}
		if rt.method == r.Method || rt.method == http.MethodGet && r.Method == http.MethodHead {
			for j, s := range rt.segs {
				if wild(s) {
					r.SetPathValue(s[1:len(s)-1], segs[j])
				}
			}
			return rt.h, nil
		}
		allow = appendNew(allow, rt.method)
		if rt.method == http.MethodGet {
			allow = appendNew(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	return nil, allow
}

// matches reports whether the path segs fits the route's, method aside.
func (rt *route) matches(segs []string) bool {
	if len(segs) != len(rt.segs) {
		return false
	}
	for i, s := range rt.segs {
		switch {
		case wild(s):
			if segs[i] == "" || segs[i] == "." || segs[i] == ".." {
				return false
			}
		case s != segs[i]:
			return false
		}
	}
	return true
}

// appendNew appends m to ms unless it is there.
func appendNew(ms []string, m string) []string {
	if slices.Contains(ms, m) {
		return ms
	}
	return append(ms, m)
}

func wild(seg string) bool { return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' }
