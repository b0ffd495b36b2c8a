package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	kyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
)

// LoadOptions says where the configuration comes from. Zero values mean "as the
// process sees it", so production code can pass LoadOptions{ConfigPaths: flags}.
type LoadOptions struct {
	// ConfigPaths are the --config flags in order of increasing precedence. When empty,
	// the default files are used: app-config.yaml (required), app-config.<env>.yaml for
	// each comma-separated BACKSTAGE_ENV, app-config.local.yaml, app-config.<env>.local.yaml.
	ConfigPaths []string
	// WorkDir resolves relative config paths, file locations and the default database
	// directory; default: the current directory.
	WorkDir string
	// LookupEnv reads ${VAR}, $env, BACKSTAGE_ENV and NODE_ENV; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Environ supplies the APP_CONFIG_* overrides ("NAME=value"); default os.Environ().
	Environ []string
}

// maxConfigFileSize bounds every file read on behalf of the configuration ($file,
// $include, config files) so that a mistaken path cannot exhaust memory.
const maxConfigFileSize = 16 << 20

// keyPattern is what Backstage accepts for one segment of a config key.
var keyPattern = regexp.MustCompile(`(?i)^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$`)

// IsValidKey reports whether k is a valid config key segment
// (`^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$`, case-insensitive).
func IsValidKey(k string) bool { return keyPattern.MatchString(k) }

// strictSections are where keys are checked against keyPattern (besides top-level
// keys): the sections this server reads. Backstage only validates the keys it reads,
// and other plugins' sections legitimately hold keys such as proxy's '/api',
// app.routes.bindings' 'catalog.createComponent' or an LDAP processor's
// 'metadata.annotations.x', so a shared app-config must not be rejected for them.
var strictSections = []string{"backend", "auth", "discovery", "authbackend", "catalog.locations", "catalog.rules"}

// Load reads, merges and validates the configuration the way Backstage's
// config-loader does (see doc.go). It returns the configuration or, when anything is
// wrong, an error, never both. That error is a *LoadError: its Problems list every
// problem with the keys this package reads, and its Root lets the caller decode the
// sections other packages own (auth.providers.<id>) so that one startup report lists
// every problem. Provider sections are not validated here.
func Load(opts LoadOptions) (*Config, error) {
	l, err := newLoader(opts)
	if err != nil {
		return nil, err
	}
	k := koanf.New(".")
	origins := map[string]string{}
	var loaded []string

	for _, f := range l.configFiles() {
		tree, ok := l.loadFile(f)
		if !ok {
			continue
		}
		loaded = append(loaded, f.abs)
		l.mergeInto(k, tree.value, tree.origins, origins)
	}
	for _, e := range l.envOverrides() {
		l.mergeInto(k, e.tree, e.origins, origins)
	}

	root := NewSection(k.Raw(), origins)
	r := root.Reader()
	r.Add(l.problems...)
	cfg := &Config{Root: root, Files: loaded}
	cfg.fill(l, r)
	ps := r.Problems()
	if ps.Err() != nil {
		return nil, &LoadError{Problems: ps, Root: root, Files: loaded}
	}
	cfg.Warnings = ps.Warnings()
	return cfg, nil
}

// LoadError is Load's error when the configuration is invalid.
type LoadError struct {
	// Problems are every problem found (warnings included).
	Problems Problems
	// Root is the merged tree, for decoding sections Load does not own.
	Root Section
	// Files are the config files that were read.
	Files []string
}

func (e *LoadError) Error() string { return e.Problems.Errors().Error() }

// Unwrap lets errors.As find the Problems.
func (e *LoadError) Unwrap() error { return e.Problems.Errors() }

type loader struct {
	workDir  string
	lookup   func(string) (string, bool)
	environ  []string
	explicit []string
	problems Problems
}

func newLoader(opts LoadOptions) (*loader, error) {
	l := &loader{lookup: opts.LookupEnv, environ: opts.Environ, explicit: opts.ConfigPaths}
	wd := opts.WorkDir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("config: working directory: %w", err)
		}
	}
	abs, err := filepath.Abs(wd)
	if err != nil {
		return nil, fmt.Errorf("config: working directory %q: %w", wd, err)
	}
	l.workDir = abs
	if l.lookup == nil {
		l.lookup = os.LookupEnv
	}
	if l.environ == nil {
		l.environ = os.Environ()
	}
	return l, nil
}

func (l *loader) problem(path, file, format string, args ...any) {
	l.problems = append(l.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...), File: file})
}

// env returns the trimmed value of an environment variable, as Backstage's loader does.
func (l *loader) env(name string) (string, bool) {
	v, ok := l.lookup(name)
	return strings.TrimSpace(v), ok
}

// display names a file for messages: relative to the working directory when inside it.
func (l *loader) display(abs string) string {
	if rel, err := filepath.Rel(l.workDir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return abs
}

func (l *loader) resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

type configFile struct {
	abs      string
	required bool
}

func (l *loader) configFiles() []configFile {
	if len(l.explicit) > 0 {
		files := make([]configFile, 0, len(l.explicit))
		for _, p := range l.explicit {
			if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
				l.problem("", p, "remote config URLs are not supported by this server; use a file path")
				continue
			}
			files = append(files, configFile{abs: l.resolve(l.workDir, p), required: true})
		}
		return files
	}
	var envs []string
	if v, ok := l.env("BACKSTAGE_ENV"); ok {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if strings.ContainsAny(e, `/\`) || e == "." || e == ".." {
				l.problem("", "env BACKSTAGE_ENV", "invalid environment name %q", e)
				continue
			}
			envs = append(envs, e)
		}
	}
	files := []configFile{{abs: filepath.Join(l.workDir, "app-config.yaml"), required: true}}
	for _, e := range envs {
		files = append(files, configFile{abs: filepath.Join(l.workDir, "app-config."+e+".yaml")})
	}
	files = append(files, configFile{abs: filepath.Join(l.workDir, "app-config.local.yaml")})
	for _, e := range envs {
		files = append(files, configFile{abs: filepath.Join(l.workDir, "app-config."+e+".local.yaml")})
	}
	return files
}

// readFile reads a regular file of bounded size (never a device or FIFO, which a
// fuzzed or mistaken path could name).
func readFile(path string) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading blocks until a writer appears.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > maxConfigFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxConfigFileSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxConfigFileSize)
	}
	return b, nil
}

// fileErr shortens an os error to its cause; the message already names the path.
func fileErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, fs.ErrNotExist) {
			return "file does not exist"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// yamlErr turns a YAML library error into one line that keeps the line number.
func yamlErr(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n  ")
	return strings.ReplaceAll(s, "\n  ", "; ")
}

// parseYAMLObject parses a top-level config file with koanf's YAML parser. The YAML
// library is defensive, but a parser panic on hostile input must still become a
// problem, never a crash.
func parseYAMLObject(b []byte) (m map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("YAML parser failure: %v", r)
		}
	}()
	return kyaml.Parser().Unmarshal(b)
}

type fileTree struct {
	value   map[string]any
	origins map[string]string
}

func (l *loader) loadFile(f configFile) (fileTree, bool) {
	name := l.display(f.abs)
	b, err := readFile(f.abs)
	if err != nil {
		if !f.required && errors.Is(err, fs.ErrNotExist) {
			return fileTree{}, false
		}
		l.problem("", name, "cannot read config file: %s", fileErr(err))
		return fileTree{}, false
	}
	m, err := parseYAMLObject(b)
	if err != nil {
		l.problem("", name, "invalid YAML: %s", yamlErr(err))
		return fileTree{}, false
	}
	t := &transformer{l: l, includeOrigins: map[string]string{}}
	ctx := &fileCtx{dir: filepath.Dir(f.abs), name: name, stack: []string{f.abs}}
	v, _ := t.value(Normalize(m), "", ctx)
	tree, _ := v.(map[string]any)
	if tree == nil {
		tree = map[string]any{}
	}
	origins := map[string]string{}
	recordOrigins(tree, "", name, t.includeOrigins, origins)
	return fileTree{value: tree, origins: origins}, true
}

// recordOrigins labels every path of v with the file that supplied it: the config
// file, or an included file below the path where its $include stood.
func recordOrigins(v any, path, label string, includes, out map[string]string) {
	if f, ok := includes[path]; ok {
		label = f
	}
	if path != "" {
		out[path] = label
	}
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			recordOrigins(c, joinPath(path, k), label, includes, out)
		}
	case []any:
		for i, c := range t {
			recordOrigins(c, fmt.Sprintf("%s[%d]", path, i), label, includes, out)
		}
	}
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// mergeInto merges one source into the koanf tree with Backstage's rules (objects
// merge deeply; arrays, scalars and nulls replace whole) and keeps origins pointing at
// the last writer of every path.
func (l *loader) mergeInto(k *koanf.Koanf, tree map[string]any, src, origins map[string]string) {
	merge := func(in, dest map[string]any) error {
		mergeTracked(in, dest, "", src, origins)
		return nil
	}
	// Our merge function never fails, and confmap only copies.
	_ = k.Load(confmap.Provider(tree, ""), nil, koanf.WithMergeFunc(merge))
}

func mergeTracked(in, dest map[string]any, prefix string, src, origins map[string]string) {
	for key, v := range in {
		p := joinPath(prefix, key)
		if vm, ok := v.(map[string]any); ok {
			if dm, ok := dest[key].(map[string]any); ok {
				if f, ok := src[p]; ok {
					origins[p] = f
				}
				mergeTracked(vm, dm, p, src, origins)
				continue
			}
		}
		dropOrigins(origins, p)
		dest[key] = v
		copyOrigins(v, p, src, origins)
	}
}

func dropOrigins(origins map[string]string, p string) {
	delete(origins, p)
	for k := range origins {
		if strings.HasPrefix(k, p) && len(k) > len(p) && (k[len(p)] == '.' || k[len(p)] == '[') {
			delete(origins, k)
		}
	}
}

func copyOrigins(v any, p string, src, origins map[string]string) {
	if f, ok := src[p]; ok {
		origins[p] = f
	}
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			copyOrigins(c, joinPath(p, k), src, origins)
		}
	case []any:
		for i, c := range t {
			copyOrigins(c, fmt.Sprintf("%s[%d]", p, i), src, origins)
		}
	}
}

const envPrefix = "APP_CONFIG_"

type envOverride struct {
	tree    map[string]any
	origins map[string]string
}

// envOverrides reads APP_CONFIG_a_b=value variables as Backstage's readEnvConfig does:
// `_` separates segments, the value is JSON when it parses and a raw string otherwise,
// null is rejected, empty values are ignored, and one variable may not override or
// nest under another.
func (l *loader) envOverrides() []envOverride {
	type kv struct{ name, value string }
	var vars []kv
	for _, e := range l.environ {
		name, value, ok := strings.Cut(e, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || value == "" {
			continue
		}
		vars = append(vars, kv{name, value})
	}
	// Sorted so that conflicts are reported the same way on every run.
	sort.SliceStable(vars, func(i, j int) bool { return vars[i].name < vars[j].name })

	seen := map[string]any{} // every override merged, to detect conflicts
	var out []envOverride
	for _, v := range vars {
		key := strings.TrimPrefix(v.name, envPrefix)
		label := "env " + v.name
		parts := strings.Split(key, "_")
		valid := true
		for _, p := range parts {
			if !IsValidKey(p) {
				valid = false
			}
		}
		if !valid {
			l.problem("", label, "invalid env config key %q", key)
			continue
		}
		parsed, err := parseJSON([]byte(v.value))
		if err != nil {
			parsed = v.value
		} else if parsed == nil {
			l.problem(strings.Join(parts, "."), label, "value may not be null")
			continue
		}
		node := seen
		conflict := false
		for i, p := range parts[:len(parts)-1] {
			next, ok := node[p]
			if !ok {
				m := map[string]any{}
				node[p] = m
				node = m
				continue
			}
			m, ok := next.(map[string]any)
			if !ok {
				l.problem(strings.Join(parts, "."), label, "could not nest config for key %q under existing value %q", key, strings.Join(parts[:i+1], "_"))
				conflict = true
				break
			}
			node = m
		}
		if conflict {
			continue
		}
		last := parts[len(parts)-1]
		if _, exists := node[last]; exists {
			l.problem(strings.Join(parts, "."), label, "refusing to override existing config at key %q", key)
			continue
		}
		node[last] = struct{}{} // a leaf marker: nothing may nest under or replace it

		value := Normalize(parsed)
		tree := map[string]any{}
		cur := tree
		for _, p := range parts[:len(parts)-1] {
			m := map[string]any{}
			cur[p] = m
			cur = m
		}
		cur[last] = value
		origins := map[string]string{}
		recordOrigins(tree, "", label, nil, origins)
		out = append(out, envOverride{tree: tree, origins: origins})
	}
	return out
}
