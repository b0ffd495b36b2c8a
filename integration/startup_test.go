package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runServerExpectingFailure runs the server with files and returns its exit error and output.
func runServerExpectingFailure(t *testing.T, files map[string]string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "authbackend"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_ENV=production")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("server did not exit:\n%s", out.String())
	}
	if err == nil {
		t.Fatalf("server exited 0:\n%s", out.String())
	}
	if strings.Contains(out.String(), "goroutine ") || strings.Contains(out.String(), "panic:") {
		t.Fatalf("server crashed:\n%s", out.String())
	}
	return out.String()
}

const minimalConfig = `app:
  baseUrl: http://127.0.0.1:3000
backend:
  baseUrl: http://127.0.0.1:7007
  listen: {port: 0}
`

func TestStartupErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		want  []string
	}{
		{
			name:  "malformed YAML",
			files: map[string]string{"app-config.yaml": "app:\n  baseUrl: [unclosed\n"},
			want:  []string{"app-config.yaml"},
		},
		{
			name:  "include of a missing file",
			files: map[string]string{"app-config.yaml": minimalConfig + "auth:\n  session:\n    $include: ./missing.yaml\n"},
			want:  []string{"missing.yaml"},
		},
		{
			name:  "unknown key store and bad duration, reported together",
			files: map[string]string{"app-config.yaml": minimalConfig + "auth:\n  backstageTokenExpiration: banana\n  keyStore:\n    provider: redis\n"},
			want:  []string{`auth.backstageTokenExpiration: invalid duration "banana" (app-config.yaml)`, "auth.keyStore.provider", "redis"},
		},
		{
			name:  "config given twice merges, later file wins",
			files: map[string]string{"a.yaml": minimalConfig, "b.yaml": "auth:\n  keyStore:\n    provider: nope\n"},
			args:  []string{"--config", "a.yaml", "--config", "b.yaml"},
			want:  []string{"auth.keyStore.provider", "b.yaml"},
		},
		{
			name: "unreachable database",
			files: map[string]string{"app-config.yaml": minimalConfig + `  database:
    client: pg
    connection:
      host: 127.0.0.1
      port: 1
      user: postgres
`},
			want: []string{"127.0.0.1:1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := runServerExpectingFailure(t, tc.files, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
