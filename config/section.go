package config

import (
	"fmt"
	"sort"
	"strings"
)

// Section is one object node of the merged configuration: its values, its dotted path
// and the files its values came from. It is immutable and holds no problem list, so
// any number of decoders can read it; each returns its own Problems.
type Section struct {
	path    string
	node    map[string]any
	origins map[string]string
}

// NewSection returns the root Section over a decoded tree. origins maps config paths
// ("a.b", "a.list[0].c") to the file that supplied them; it may be nil.
func NewSection(tree map[string]any, origins map[string]string) Section {
	if tree == nil {
		tree = map[string]any{}
	}
	return Section{node: tree, origins: origins}
}

// SectionFromMap is NewSection without origins, for tests and defaults.
func SectionFromMap(tree map[string]any) Section { return NewSection(tree, nil) }

// Path is the dotted config path of this node ("" for the root).
func (s Section) Path() string { return s.path }

// Has reports whether key is present (explicit nulls count as absent, as in Backstage).
func (s Section) Has(key string) bool {
	v, ok := s.node[key]
	return ok && v != nil
}

// Keys returns the present keys of this node, sorted.
func (s Section) Keys() []string {
	keys := make([]string, 0, len(s.node))
	for k, v := range s.node {
		if v != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Empty reports whether the node has no present keys.
func (s Section) Empty() bool { return len(s.Keys()) == 0 }

// Raw returns the decoded value at key (nil when absent).
func (s Section) Raw(key string) any { return s.node[key] }

// IsObject reports whether the value at key is an object.
func (s Section) IsObject(key string) bool {
	_, ok := s.node[key].(map[string]any)
	return ok
}

// Sub returns the Section at key; it is empty when key is absent or not an object
// (decoding reports the latter).
func (s Section) Sub(key string) Section {
	sub := Section{path: s.child(key), origins: s.origins, node: map[string]any{}}
	if m, ok := s.node[key].(map[string]any); ok {
		sub.node = m
	}
	return sub
}

// Reader returns a Reader over this section with a problem list of its own.
func (s Section) Reader() *Reader {
	return &Reader{Section: s, sink: &problemSink{}}
}

func (s Section) child(key string) string {
	if s.path == "" {
		return key
	}
	if strings.HasPrefix(key, "[") {
		return s.path + key
	}
	return s.path + "." + key
}

// FileOf returns the file that supplied the value at key (or the nearest enclosing
// value with a known origin).
func (s Section) FileOf(key string) string {
	p := s.path
	if key != "" {
		p = s.child(key)
	}
	for p != "" {
		if f, ok := s.origins[p]; ok {
			return f
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return s.origins[""]
}

// Problem returns a problem about key ("" for the node itself), with its path and file.
func (s Section) Problem(key, format string, args ...any) Problem {
	path := s.path
	if key != "" {
		path = s.child(key)
	}
	return Problem{Path: path, Message: fmt.Sprintf(format, args...), File: s.FileOf(key)}
}

// Warning is Problem marked as a warning: reported, but not fatal.
func (s Section) Warning(key, format string, args ...any) Problem {
	p := s.Problem(key, format, args...)
	p.Warning = true
	return p
}
