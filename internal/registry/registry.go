// Package registry maps driver names to drivers, for the packages that
// register drivers by name (sensors, actuators). A duplicate or nameless
// registration panics: it is a programming error, caught at start.
package registry

import (
	"sort"
	"strings"
	"sync"
)

// Registry holds the drivers of one kind. Safe for concurrent use.
//
// D is best a pointer: Go compiles one copy of the code for all pointer
// types, where each struct type gets its own (with symbol names as long as
// the struct's definition).
type Registry[D any] struct {
	kind, hint string
	mu         sync.RWMutex
	m          map[string]D
}

// New returns an empty registry. kind names it in panics ("sensors");
// hint says what to import when nothing is registered.
func New[D any](kind, hint string) *Registry[D] {
	return &Registry[D]{kind: kind, hint: hint, m: map[string]D{}}
}

// Register adds d under name; it panics on an empty or duplicate name.
func (r *Registry[D]) Register(name string, d D) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "" {
		panic(r.kind + ": Register of a driver without name")
	}
	if _, dup := r.m[name]; dup {
		panic(r.kind + ": driver " + name + " registered twice")
	}
	r.m[name] = d
}

// Lookup returns the driver registered under name.
func (r *Registry[D]) Lookup(name string) (D, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.m[name]
	return d, ok
}

// Names returns the registered names, sorted.
func (r *Registry[D]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Known lists the registered names for an error message, or says what to
// import when none is.
func (r *Registry[D]) Known() string {
	n := r.Names()
	if len(n) == 0 {
		return "none registered: import " + r.hint
	}
	return strings.Join(n, ", ")
}
