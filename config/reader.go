package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Problem is one thing wrong with the configuration, reported with the config path it
// concerns and the file the value came from, e.g.
// `auth.backstageTokenExpiration: invalid duration "banana" (app-config.yaml)`.
type Problem struct {
	Path    string
	Message string
	File    string
	// Warning marks a problem that is reported but does not stop the server (an unknown
	// key where Backstage's schema allows other plugins' keys, an ignored provider id).
	Warning bool
}

func (p Problem) String() string {
	s := p.Message
	if p.Path != "" {
		s = p.Path + ": " + p.Message
	}
	if p.File != "" {
		s += " (" + p.File + ")"
	}
	return s
}

// Problems is every problem found in one validation pass; it is an error.
type Problems []Problem

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns the problems that are warnings.
func (ps Problems) Warnings() Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Err returns the non-warning problems as an error, or nil when there are none.
func (ps Problems) Err() error {
	if errs := ps.Errors(); len(errs) > 0 {
		return errs
	}
	return nil
}

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return "invalid configuration:\n  - " + strings.Join(lines, "\n  - ")
}

// problemSink collects problems from every Reader derived from one root.
type problemSink struct {
	mu       sync.Mutex
	problems Problems
}

func (s *problemSink) add(p Problem) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, p)
}

// Reader reads typed values from one object node of the merged configuration tree and
// records a Problem (with path and source file) for every missing or malformed value,
// so that validation can report everything at once. A Reader for an absent key is
// valid and empty.
type Reader struct {
	Section
	sink *problemSink
}

// NewReader returns a root Reader over a decoded tree. origins maps config paths
// ("a.b", "a.list[0].c") to the file that supplied them; it may be nil.
func NewReader(tree map[string]any, origins map[string]string) *Reader {
	return NewSection(tree, origins).Reader()
}

// FromMap is NewReader without origins, for tests and defaults.
func FromMap(tree map[string]any) *Reader { return NewReader(tree, nil) }

// Problems returns every problem recorded through this Reader or any Reader derived
// from it.
func (r *Reader) Problems() Problems {
	if r.sink == nil {
		return nil
	}
	r.sink.mu.Lock()
	defer r.sink.mu.Unlock()
	return append(Problems(nil), r.sink.problems...)
}

// Err returns the non-warning problems as an error, or nil when there are none.
func (r *Reader) Err() error { return r.Problems().Err() }

// Add records a fully formed problem.
func (r *Reader) Add(ps ...Problem) {
	for _, p := range ps {
		r.sink.add(p)
	}
}

// Problemf records a problem about key (use "" for the node itself).
func (r *Reader) Problemf(key, format string, args ...any) {
	r.sink.add(r.Problem(key, format, args...))
}

// Warnf records a warning about key.
func (r *Reader) Warnf(key, format string, args ...any) {
	r.sink.add(r.Warning(key, format, args...))
}

// Sub returns a Reader for the object at key. If key is absent the Reader is empty; if
// it is not an object a problem is recorded and the Reader is empty.
func (r *Reader) Sub(key string) *Reader {
	if v := r.node[key]; v != nil {
		if _, ok := v.(map[string]any); !ok {
			r.Problemf(key, "must be an object, got %s", TypeName(v))
		}
	}
	return &Reader{Section: r.Section.Sub(key), sink: r.sink}
}

// List returns Readers for each object in the list at key. Non-object items are
// reported and skipped.
func (r *Reader) List(key string) []*Reader {
	v, ok := r.node[key]
	if !ok || v == nil {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		r.Problemf(key, "must be a list, got %s", TypeName(v))
		return nil
	}
	out := make([]*Reader, 0, len(items))
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", r.child(key), i)
		m, ok := it.(map[string]any)
		if !ok {
			r.sink.add(Problem{Path: p, Message: fmt.Sprintf("must be an object, got %s", TypeName(it)), File: r.FileOf(key)})
			continue
		}
		out = append(out, &Reader{Section: Section{path: p, node: m, origins: r.origins}, sink: r.sink})
	}
	return out
}

// String returns the string at key, or "" when absent. Numbers and booleans are
// rendered as strings (YAML often types "8080" or "true" unintentionally).
func (r *Reader) String(key string) string {
	v, ok := r.node[key]
	if !ok || v == nil {
		return ""
	}
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	default:
		r.Problemf(key, "must be a string, got %s", TypeName(v))
		return ""
	}
}

// RequiredString is String that records a problem when the value is missing or empty.
func (r *Reader) RequiredString(key string) string {
	if !r.Has(key) {
		r.Problemf(key, "missing required config value")
		return ""
	}
	s := r.String(key)
	if s == "" {
		if _, isString := r.node[key].(string); isString {
			r.Problemf(key, "must not be empty")
		}
	}
	return s
}

// Bool returns the boolean at key, or def when absent. "true"/"false" strings are
// accepted, as Backstage's config reader does.
func (r *Reader) Bool(key string, def bool) bool {
	v, ok := r.node[key]
	if !ok || v == nil {
		return def
	}
	switch t := v.(type) {
	case bool:
		return t
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	r.Problemf(key, "must be a boolean, got %s", describe(v))
	return def
}

// Int returns the integer at key, or def when absent.
func (r *Reader) Int(key string, def int) int {
	v, ok := r.node[key]
	if !ok || v == nil {
		return def
	}
	switch t := v.(type) {
	case int:
		return t
	case int64:
		if int64(int(t)) == t {
			return int(t)
		}
	case uint64:
		if t <= math.MaxInt {
			return int(t)
		}
	case float64:
		// The bounds keep the conversion defined; 2^63 itself is out of range.
		if t == math.Trunc(t) && t >= math.MinInt64 && t < math.MaxInt64 {
			return int(t)
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err == nil {
			return n
		}
	}
	r.Problemf(key, "must be an integer, got %s", describe(v))
	return def
}

// StringList returns the list of strings at key (nil when absent).
func (r *Reader) StringList(key string) []string {
	v, ok := r.node[key]
	if !ok || v == nil {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		if ss, ok := v.([]string); ok {
			return ss
		}
		r.Problemf(key, "must be a list of strings, got %s", TypeName(v))
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			r.Problemf(fmt.Sprintf("%s[%d]", key, i), "must be a string, got %s", TypeName(it))
			continue
		}
		out = append(out, s)
	}
	return out
}

// StringOrList accepts either a list of strings or one string split on whitespace,
// commas and pipes (Backstage's additionalScopes rule).
func (r *Reader) StringOrList(key string) []string {
	v, ok := r.node[key]
	if !ok || v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return strings.FieldsFunc(s, func(c rune) bool {
			return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '|'
		})
	}
	return r.StringList(key)
}

// Duration reads a Backstage duration (ms-style string such as "1h" or "2 days", ISO
// 8601 such as "PT8H", or an object such as {hours: 8}). ok is false when absent or
// invalid (invalid values are recorded as problems).
func (r *Reader) Duration(key string) (d time.Duration, ok bool) {
	v, present := r.node[key]
	if !present || v == nil {
		return 0, false
	}
	d, err := ParseDuration(v)
	if err != nil {
		r.Problemf(key, "%v", err)
		return 0, false
	}
	return d, true
}

// StringMap returns an object of string values (nil when absent).
func (r *Reader) StringMap(key string) map[string]string {
	sub := r.Sub(key)
	if len(sub.node) == 0 {
		return nil
	}
	out := make(map[string]string, len(sub.node))
	for _, k := range sub.Keys() {
		out[k] = sub.String(k)
	}
	return out
}

// CheckKnownKeys records a problem for every key of this node not in known. Use it
// where Backstage's schema would reject a key (it is not applied to whole app-configs,
// which carry keys for many plugins).
func (r *Reader) CheckKnownKeys(known ...string) {
	set := make(map[string]bool, len(known))
	for _, k := range known {
		set[k] = true
	}
	for _, k := range r.Keys() {
		if !set[k] {
			r.Problemf(k, "unknown key")
		}
	}
}

// TypeName describes a decoded config value's type for problem messages ("a string",
// "a list", ...).
func TypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return TypeName(v)
}
