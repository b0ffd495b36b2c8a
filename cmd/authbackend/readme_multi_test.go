package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's several-providers example starts the server as it is, and each OAuth
// provider's /start sends the browser to its vendor (spectrocloud's needs Palette's
// discovery document, so it is only checked to be served).
func TestReadmeExampleSeveralProviders(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "app-config.yaml")
	yaml := "app: {baseUrl: 'http://127.0.0.1:3000'}\nbackend:\n  baseUrl: http://127.0.0.1:7007\n" +
		"  database: {client: better-sqlite3, connection: {directory: " + dir + "}}\n" + readmeYAML(t, "#### Several providers at once")
	// Outside development the session secret must be 32 random bytes or more.
	yaml = strings.Replace(yaml, "secret: readme-value", "secret: 9f3Kq0vXbT7mWc2LpZs8YhN4eR6uJd1AoGiE5tHnBwQ", 1)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := build(context.Background(), []string{cfg}, slog.New(slog.DiscardHandler), modules())
	if err != nil {
		t.Fatalf("%v\n%s", err, yaml)
	}
	defer a.close()
	for id, want := range map[string]string{
		"github":    "https://github.com/login/oauth/authorize?",
		"microsoft": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?",
	} {
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/auth/"+id+"/start?env=production", nil))
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || !strings.HasPrefix(loc, want) {
			t.Errorf("%s start: %d %q", id, rec.Code, loc)
		}
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/auth/spectrocloud/logout?env=production", nil))
	if strings.Contains(rec.Body.String(), "Unknown auth provider") {
		t.Errorf("spectrocloud is not served: %d %s", rec.Code, rec.Body.String())
	}
}
