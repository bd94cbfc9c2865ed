package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/internal/lazyre"
)

// The YAML decoder reports a typo as "field timezon not found in type
// main.Config". These helpers turn that into the key's path and the
// nearest key the file could have meant, from the yaml tags of Config.

var yamlUnknownField = lazyre.New(`^field (.+) not found in type \S+$`)

// unknownKeyProblem rewrites the decoder's unknown-field message at line
// into a Problem naming the key path and, when one is close, the known key
// it probably meant. ok is false when msg is not such a message.
func unknownKeyProblem(doc *yaml.Node, line int, msg string) (Problem, bool) {
	m := yamlUnknownField.FindStringSubmatch(msg)
	if m == nil {
		return Problem{}, false
	}
	name := m[1]
	path := pathOfKey(doc, "", line, name)
	if path == "" {
		path = name
	}
	parent := ""
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent = path[:i]
	}
	known := knownKeys(reflect.TypeOf(Config{}), parent)
	p := Problem{Path: path, Line: line, Msg: "unknown key"}
	if best := nearest(name, known); best != "" {
		p.Msg += fmt.Sprintf(" (did you mean %q?)", best)
	} else if len(known) > 0 {
		p.Msg += " (known: " + strings.Join(known, ", ") + ")"
	}
	return p, true
}

// pathOfKey returns the dotted path of the mapping key called name on
// line, or "".
func pathOfKey(n *yaml.Node, prefix string, line int, name string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := pathOfKey(c, prefix, line, name); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Line == line && k.Value == name {
				return joinPath(prefix, k.Value)
			}
			if p := pathOfKey(n.Content[i+1], joinPath(prefix, k.Value), line, name); p != "" {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p := pathOfKey(c, joinPath(prefix, fmt.Sprint(i)), line, name); p != "" {
				return p
			}
		}
	}
	return ""
}

// knownKeys lists the yaml keys of the struct at a dotted path below t
// (list indexes and map keys step into the element type), in declaration
// order; nil when the path does not lead to a struct.
func knownKeys(t reflect.Type, path string) []string {
	for _, part := range strings.Split(path, ".") {
		t = deref(t)
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
			if part == "" {
				continue
			}
			f, ok := fieldByKey(t, part)
			if !ok {
				return nil
			}
			t = f
		default:
			return nil
		}
	}
	t = deref(t)
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(yaml.Node{}) {
		return nil
	}
	var keys []string
	collectKeys(t, &keys)
	return keys
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// yamlKey returns a struct field's yaml key and whether it is inlined.
func yamlKey(f reflect.StructField) (key string, inline bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(","+opts+",", ",inline,") {
		return "", true
	}
	if name == "-" || !f.IsExported() {
		return "", false
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

func collectKeys(t reflect.Type, keys *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		k, inline := yamlKey(f)
		switch {
		case inline:
			if ft := deref(f.Type); ft.Kind() == reflect.Struct {
				collectKeys(ft, keys)
			}
		case k != "":
			*keys = append(*keys, k)
		}
	}
}

func fieldByKey(t reflect.Type, key string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		k, inline := yamlKey(f)
		if inline {
			if ft := deref(f.Type); ft.Kind() == reflect.Struct {
				if r, ok := fieldByKey(ft, key); ok {
					return r, true
				}
			}
			continue
		}
		if k == key {
			return f.Type, true
		}
	}
	return nil, false
}

// nearest returns the known key closest to name by edit distance, when it
// is close enough to be a typo (at most a third of the longer word, and at
// most 3 edits), else "".
func nearest(name string, known []string) string {
	best, bestD := "", 4
	for _, k := range known {
		d := editDistance(strings.ToLower(name), k)
		limit := max(len(name), len(k)) / 3
		if d <= max(limit, 1) && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var yamlTypeError = lazyre.New("^cannot unmarshal (!![a-z]+)(?: `([^`]*)`)? into (.+)$")

// typeErrorText says a YAML type error in the config's words: what the key
// takes and what the file has ("must be a whole number, not "many""),
// instead of the decoder's Go types ("cannot unmarshal !!str `many` into
// int"). Other messages are returned as they are.
func typeErrorText(msg string) string {
	m := yamlTypeError.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := strings.TrimLeft(m[3], "*")
	switch {
	case strings.HasPrefix(want, "[]"):
		want = "a list"
	case strings.HasPrefix(want, "map["), strings.Contains(want, "."):
		want = "a mapping of keys"
	case want == "bool":
		want = "true or false"
	case want == "string":
		want = "a single value"
	case strings.HasPrefix(want, "float"):
		want = "a number"
	case strings.HasPrefix(want, "uint"):
		want = "a whole number, 0 or more"
	case strings.HasPrefix(want, "int"):
		want = "a whole number"
	default:
		return msg
	}
	var got string
	switch m[1] {
	case "!!seq":
		got = "a list"
	case "!!map":
		got = "a mapping"
	case "!!null":
		got = "empty"
	default:
		got = strconv.Quote(m[2])
		if m[1] != "!!str" {
			got = m[2]
		}
	}
	return "must be " + want + ", not " + got
}
