// Package lazyre holds regular expressions compiled on first use instead
// of at package initialisation. Every process pays for the regexps its
// packages compile at start (each CLI command too); most of these only
// read error messages, and are never used in a run that has none.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled when first used; it panics then
// if the expression does not compile, as regexp.MustCompile does at start
// (the package's tests use every one of them).
type Regexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

// New returns expr, to be compiled on first use.
func New(expr string) *Regexp { return &Regexp{expr: expr} }

// compiled returns the expression, compiled at the first call.
func (r *Regexp) compiled() *regexp.Regexp {
	r.once.Do(func() { r.re = regexp.MustCompile(r.expr) })
	return r.re
}

// String returns the source text of the expression.
func (r *Regexp) String() string { return r.expr }

// MatchString is regexp.Regexp's.
func (r *Regexp) MatchString(s string) bool { return r.compiled().MatchString(s) }

// FindStringSubmatch is regexp.Regexp's.
func (r *Regexp) FindStringSubmatch(s string) []string { return r.compiled().FindStringSubmatch(s) }

// ReplaceAllString is regexp.Regexp's.
func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.compiled().ReplaceAllString(src, repl)
}
