package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSessionSecretOutsideDevelopment(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		dev          bool
		problem      string
	}{
		{"long random", "k3J9s0aQ2mXvP7bN4cT8wE1yR6uI5oLz", false, ""},
		{"short", "s3", false, "auth.session.secret: is only 2 bytes; outside development"},
		{"31 bytes", strings.Repeat("x", 31), false, "is only 31 bytes"},
		{"the demo's published secret", "demo-session-secret-change-me-0123456789", false, "is a secret published in this project's examples"},
		{"short is fine in development", "s3", true, ""},
		{"published is fine in development", "demo-session-secret-change-me-0123456789", true, ""},
		{"unset: random secret, with a warning elsewhere", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := minimal
			if tc.secret != "" {
				yaml += "auth:\n  session: {secret: '" + tc.secret + "'}\n"
			}
			dir := writeTree(t, map[string]string{"app-config.yaml": yaml})
			e := env{}
			if tc.dev {
				e["NODE_ENV"] = "development"
			}
			_, err := loadDir(dir, e, nil)
			if tc.problem == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !hasProblem(err, tc.problem) || !hasProblem(err, "openssl rand -base64 32") {
				t.Fatalf("want problem %q naming how to generate one, got %v", tc.problem, err)
			}
		})
	}
}

// Every session secret written in examples/ or README.md is refused outside development.
func TestPublishedSecretsCoverExamples(t *testing.T) {
	root := filepath.Join("..")
	var files []string
	_ = filepath.Walk(filepath.Join(root, "examples"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	files = append(files, filepath.Join(root, "README.md"))
	// `secret: value`, `secret: ${VAR:-fallback}` and `{secret: value}` forms.
	re := regexp.MustCompile(`(?m)\bsecret:\s*['"]?([^'"\s,}#]+)`)
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			v := m[1]
			if strings.HasPrefix(v, "${") {
				_, fallback, has := strings.Cut(v, ":-")
				if !has {
					continue // only an environment variable: nothing published
				}
				v = strings.TrimSuffix(fallback, "}")
			}
			found++
			if checkSessionSecret(v, false) == nil {
				t.Errorf("%s: session secret %q is published but accepted outside development; add it to publishedSecretLiterals", f, v)
			}
		}
	}
	if found == 0 {
		t.Fatal("no secret found in the examples: the scan is broken")
	}
}
