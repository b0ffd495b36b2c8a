package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeYAML returns the first yaml block after the README heading that starts with
// heading, its ${VAR} references replaced by placeholders.
func readmeYAML(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading)
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	s = s[i:]
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatalf("no yaml block after %q", heading)
	}
	return regexp.MustCompile(`\$\{[A-Z_]+\}`).ReplaceAllString(s[start+8:start+8+end], "readme-value")
}

// The README's example configs for these providers start the server as they are, and
// /start sends the browser to the vendor.
func TestReadmeExamplesGitLabBitbucketAtlassian(t *testing.T) {
	for id, tc := range map[string]struct{ heading, want string }{
		"gitlab":          {"#### GitLab (`gitlab`)", "https://gitlab.com/oauth/authorize?"},
		"bitbucket":       {"#### Bitbucket Cloud (`bitbucket`)", "https://bitbucket.org/site/oauth2/authorize?"},
		"bitbucketServer": {"#### Bitbucket Server / Data Center (`bitbucketServer`)", "https://bitbucket.example.com/rest/oauth2/latest/authorize?"},
		"atlassian":       {"#### Atlassian (`atlassian`)", "https://auth.atlassian.com/authorize?audience=api.atlassian.com&prompt=consent&"},
	} {
		t.Run(id, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "app-config.yaml")
			yaml := "app: {baseUrl: 'http://127.0.0.1:3000'}\nbackend:\n  baseUrl: http://127.0.0.1:7007\n" +
				"  database: {client: better-sqlite3, connection: {directory: " + dir + "}}\n" + readmeYAML(t, tc.heading)
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := build(context.Background(), []string{cfg}, slog.New(slog.DiscardHandler), modules())
			if err != nil {
				t.Fatalf("%v\n%s", err, yaml)
			}
			defer a.close()
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/auth/"+id+"/start?env=development", nil))
			if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || !strings.HasPrefix(loc, tc.want) {
				t.Errorf("start: %d %q", rec.Code, loc)
			}
		})
	}
}
