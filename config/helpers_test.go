package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// minimal is the smallest valid configuration.
const minimal = "app:\n  baseUrl: http://app.test\nbackend:\n  baseUrl: http://backend.test\n"

// writeTree creates files (path -> content) under a new temp dir and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

// loadDir loads from dir with a controlled environment (never the process's).
func loadDir(dir string, e env, environ []string, paths ...string) (*Config, error) {
	if environ == nil {
		environ = []string{}
	}
	return Load(LoadOptions{ConfigPaths: paths, WorkDir: dir, LookupEnv: e.lookup, Environ: environ})
}

func mustLoad(t *testing.T, dir string, e env, environ []string, paths ...string) *Config {
	t.Helper()
	c, err := loadDir(dir, e, environ, paths...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// lookupPath reads a dotted path ("a.b.c", no list indexes) from the merged tree.
func lookupPath(c *Config, path string) (any, bool) {
	var cur any = c.Root.node
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func problemStrings(err error) []string {
	var ps Problems
	if !errors.As(err, &ps) {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func hasProblem(err error, substr string) bool {
	for _, s := range problemStrings(err) {
		if strings.Contains(s, substr) {
			return true
		}
	}
	return false
}
