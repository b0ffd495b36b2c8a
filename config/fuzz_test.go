package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoadYAML loads arbitrary bytes as app-config.yaml: Load must never panic, and
// must return either a Config or Problems, never both.
func FuzzLoadYAML(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("a: {$include: app-config.yaml}\n"))
	f.Add([]byte("a: ${X:-y} $${z}\nb: [1, {c: null}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "app-config.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		type result struct {
			c   *Config
			err error
		}
		done := make(chan result, 1)
		go func() {
			c, err := Load(LoadOptions{
				WorkDir:   dir,
				LookupEnv: env{"X": "x", "EMPTY": ""}.lookup,
				Environ:   []string{"APP_CONFIG_x_y=1"},
			})
			done <- result{c, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			// A hang is a failure the fuzzer can record, unlike its own deadline.
			t.Fatalf("Load did not return within 5s for %q", data)
		}
		c, err := r.c, r.err
		if (c == nil) == (err == nil) {
			t.Fatalf("Load must return a Config or an error, not both or neither (config %v, err %v)", c != nil, err)
		}
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not Problems: %v", err)
			}
			return
		}
		// The typed helpers must cope with whatever was loaded.
		_ = c.AuthBaseURL()
		_ = c.InternalBaseURL("auth")
		_ = c.AppOrigin()
	})
}
