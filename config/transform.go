package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// maxIncludeDepth stops runaway include chains that are not strictly cycles.
const maxIncludeDepth = 32

// substPattern finds ${...} references and their $${...} escapes, as Backstage's
// substitution transform splits strings on /(\$?\$\{[^{}]*\})/.
var substPattern = regexp.MustCompile(`\$?\$\{[^{}]*\}`)

// fileCtx is the file whose values are being transformed.
type fileCtx struct {
	dir   string   // relative $file/$include paths resolve from here
	name  string   // display name, for problems
	stack []string // absolute paths of the files being included, for cycle detection
}

// transformer applies Backstage's per-file transforms to a decoded tree: include
// directives ($file, $env, $include) and ${VAR} substitution on every string.
type transformer struct {
	l *loader
	// includeOrigins maps a config path to the included file that supplied it.
	includeOrigins map[string]string
}

// value transforms v found at path; keep is false when the value is undefined and
// its key must be dropped (an unset variable, an unset $env, a failed directive).
func (t *transformer) value(v any, path string, ctx *fileCtx) (out any, keep bool) {
	switch x := v.(type) {
	case string:
		return t.substitute(x)
	case map[string]any:
		if dk := directiveKeys(x); len(dk) > 0 {
			return t.directive(x, dk, path, ctx)
		}
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			p := joinPath(path, k)
			if t.strict(p) && !IsValidKey(k) {
				t.l.problem(p, ctx.name, "invalid config key %q: keys start with a letter and contain letters and digits, separated by single -, _ or :", k)
			}
			if nv, ok := t.value(x[k], p, ctx); ok {
				out[k] = nv
			}
		}
		return out, true
	case []any:
		out := make([]any, 0, len(x))
		for i, it := range x {
			if nv, ok := t.value(it, fmt.Sprintf("%s[%d]", path, i), ctx); ok {
				out = append(out, nv)
			}
		}
		return out, true
	default:
		return v, true
	}
}

// strict reports whether the key ending path is checked (see strictSections).
func (t *transformer) strict(path string) bool {
	if !strings.ContainsAny(path, ".[") {
		return true // a top-level key
	}
	for _, s := range strictSections {
		if strings.HasPrefix(path, s) && len(path) > len(s) && (path[len(s)] == '.' || path[len(s)] == '[') {
			return true
		}
	}
	return false
}

func directiveKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, "$") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// substitute applies ${VAR}, ${VAR:-fallback} and $${...} to s. Any reference to an
// unset variable (or an empty one with an empty fallback) makes the whole value
// undefined, as in Backstage.
func (t *transformer) substitute(s string) (string, bool) {
	locs := substPattern.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return s, true
	}
	var b strings.Builder
	defined := true
	last := 0
	for _, loc := range locs {
		b.WriteString(s[last:loc[0]])
		last = loc[1]
		ref := s[loc[0]:loc[1]]
		if strings.HasPrefix(ref, "$$") {
			b.WriteString(ref[1:])
			continue
		}
		inner := ref[2 : len(ref)-1]
		if name, fallback, ok := strings.Cut(inner, ":-"); ok {
			v, _ := t.l.env(strings.TrimSpace(name))
			if v == "" {
				v = strings.TrimSpace(fallback)
			}
			if v == "" {
				defined = false
			}
			b.WriteString(v)
			continue
		}
		v, set := t.l.env(strings.TrimSpace(inner))
		if !set {
			defined = false
		}
		b.WriteString(v)
	}
	b.WriteString(s[last:])
	return b.String(), defined
}

func (t *transformer) directive(m map[string]any, keys []string, path string, ctx *fileCtx) (any, bool) {
	key := keys[0]
	if len(m) != 1 {
		others := make([]string, 0, len(m)-1)
		for _, k := range sortedKeys(m) {
			if k != key {
				others = append(others, k)
			}
		}
		t.l.problem(path, ctx.name, "include key %s must be the only key in its object (also found %s)", key, strings.Join(others, ", "))
		return nil, false
	}
	switch key {
	case "$file", "$env", "$include":
	default:
		t.l.problem(path, ctx.name, "unknown include directive %s (expected $file, $env or $include)", key)
		return nil, false
	}
	raw, ok := m[key].(string)
	if !ok {
		t.l.problem(path, ctx.name, "%s value must be a string, got %s", key, TypeName(m[key]))
		return nil, false
	}
	arg, defined := t.substitute(raw)
	if !defined {
		t.l.problem(path, ctx.name, "%s %q references an unset environment variable", key, raw)
		return nil, false
	}

	switch key {
	case "$env":
		v, ok := t.l.env(arg)
		return v, ok
	case "$file":
		b, err := readFile(t.l.resolve(ctx.dir, arg))
		if err != nil {
			t.l.problem(path, ctx.name, "$file: cannot read %q: %s", arg, fileErr(err))
			return nil, false
		}
		return strings.TrimRightFunc(string(b), unicode.IsSpace), true
	default:
		return t.include(arg, path, ctx)
	}
}

func (t *transformer) include(arg, path string, ctx *fileCtx) (any, bool) {
	file, dataPath, _ := strings.Cut(arg, "#")
	ext := strings.ToLower(filepath.Ext(file))
	if ext != ".json" && ext != ".yaml" && ext != ".yml" {
		t.l.problem(path, ctx.name, "$include: no configuration parser for %q (expected a .json, .yaml or .yml file)", file)
		return nil, false
	}
	abs := t.l.resolve(ctx.dir, file)
	for _, s := range ctx.stack {
		if s == abs {
			t.l.problem(path, ctx.name, "$include: %q includes itself (include cycle)", file)
			return nil, false
		}
	}
	if len(ctx.stack) > maxIncludeDepth {
		t.l.problem(path, ctx.name, "$include: %q: includes nested more than %d deep", file, maxIncludeDepth)
		return nil, false
	}
	b, err := readFile(abs)
	if err != nil {
		t.l.problem(path, ctx.name, "$include: cannot read %q: %s", file, fileErr(err))
		return nil, false
	}
	v, err := parseIncluded(b, ext)
	if err != nil {
		t.l.problem(path, ctx.name, "$include: cannot parse %q: %s", file, err)
		return nil, false
	}
	if dataPath != "" {
		parts := strings.Split(dataPath, ".")
		for i, part := range parts {
			obj, ok := v.(map[string]any)
			if !ok {
				t.l.problem(path, ctx.name, "$include: value at %q in %q is not an object", strings.Join(parts[:i], "."), file)
				return nil, false
			}
			// Backstage silently drops the key here; naming the missing path is kinder
			// than a later "missing required config value".
			if v, ok = obj[part]; !ok {
				t.l.problem(path, ctx.name, "$include: %q has no value at %q", file, strings.Join(parts[:i+1], "."))
				return nil, false
			}
		}
	}
	inner := &fileCtx{dir: filepath.Dir(abs), name: t.l.display(abs), stack: append(append([]string(nil), ctx.stack...), abs)}
	t.includeOrigins[path] = inner.name
	return t.value(v, path, inner)
}

// parseIncluded decodes an included file; unlike a config file its root may be any value.
func parseIncluded(b []byte, ext string) (v any, err error) {
	if ext == ".json" {
		return parseJSON(b)
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("YAML parser failure: %v", r)
		}
	}()
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s", yamlErr(err))
	}
	return Normalize(v), nil
}

// parseJSON decodes one JSON value, keeping integers as int (not float64).
func parseJSON(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return Normalize(v), nil
}

// Normalize converts a decoded YAML/JSON value to the shapes Reader understands:
// map[string]any, []any, string, bool, int, int64, uint64, float64 and nil (YAML maps
// with non-string keys get string keys). Other packages reading YAML use it too.
func Normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			out[k] = Normalize(c)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			out[fmt.Sprint(k)] = Normalize(c)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = Normalize(c)
		}
		return out
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			if int64(int(n)) == n {
				return int(n)
			}
			return n
		}
		f, _ := x.Float64()
		return f
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return x
	case time.Time:
		// YAML timestamps are strings to Backstage's YAML 1.2 parser.
		return x.Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case nil, string, bool, int, int64, uint64:
		return x
	default:
		return fmt.Sprint(x)
	}
}
