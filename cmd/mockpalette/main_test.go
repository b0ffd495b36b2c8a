package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
)

func TestLoadUsers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(good, []byte("- subject: u1\n  email: carol@example.com\n  emailVerified: false\n  givenName: Carol\n  groups: [ops]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	valid := func(u mockpalette.User) bool { return u.Subject != "" && u.Email != "" }
	users, err := loadUsers(good, valid, "subject and email")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].Email != "carol@example.com" || users[0].EmailVerified == nil || *users[0].EmailVerified || users[0].Groups[0] != "ops" {
		t.Fatalf("%+v", users)
	}
	for name, content := range map[string]string{"empty": "", "no email": "- subject: u1\n", "not yaml": "{"} {
		p := filepath.Join(dir, name+".yaml")
		_ = os.WriteFile(p, []byte(content), 0o600)
		if _, err := loadUsers(p, valid, "subject and email"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if err := run([]string{"--no-such-flag"}, log); err == nil {
		t.Error("unknown flag accepted")
	}
	if err := run([]string{"--users", filepath.Join(t.TempDir(), "missing.yaml")}, log); err == nil {
		t.Error("missing users file accepted")
	}
	if err := run([]string{"--listen", "256.0.0.1:1"}, log); err == nil {
		t.Error("bad listen address accepted")
	}
	if err := run([]string{"--personality", "no-such-vendor"}, log); err == nil || !strings.Contains(err.Error(), "unknown personality") {
		t.Errorf("unknown personality: %v", err)
	}
	if err := run([]string{"--tls-cert", "c.pem"}, log); err == nil {
		t.Error("--tls-cert without --tls-key accepted")
	}
}

func TestPersonalities(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for personality, path := range map[string]string{
		"palette":      "/v1/oidc/tenant/t1/.well-known/openid-configuration",
		"generic-oidc": "/realms/t1/.well-known/openid-configuration",
		"github":       "/_mock/health",
		"oauth2":       "/_mock/health",
	} {
		h, _, err := newIdP(personality, "", idpFlags{tenant: "t1", clientID: "c", clientSecret: "s"}, log)
		if err != nil {
			t.Fatalf("%s: %v", personality, err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s %s: %d", personality, path, rec.Code)
		}
	}
	for _, personality := range []string{"github", "gitlab", "bitbucket", "bitbucketServer", "atlassian"} {
		rec := httptest.NewRecorder()
		h, _, err := newIdP(personality, "", idpFlags{clientID: "c", clientSecret: "s"}, log)
		if err != nil {
			t.Fatalf("%s: %v", personality, err)
		}
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_mock/health", nil))
		if !strings.Contains(rec.Body.String(), `"personality":"`+personality+`"`) {
			t.Errorf("%s health: %s", personality, rec.Body)
		}
	}
	// A vendor users file has the vendor's fields.
	p := filepath.Join(t.TempDir(), "gh.yaml")
	_ = os.WriteFile(p, []byte("- {id: 7, nodeId: MDQ6VXNlcjc=, login: dana, email: dana@example.com}\n"), 0o600)
	if _, _, err := newIdP("github", p, idpFlags{clientID: "c", clientSecret: "s"}, log); err != nil {
		t.Errorf("github users file: %v", err)
	}
	_ = os.WriteFile(p, []byte("- {subject: u1, email: a@example.com}\n"), 0o600)
	if _, _, err := newIdP("github", p, idpFlags{clientID: "c", clientSecret: "s"}, log); err == nil {
		t.Error("a Palette users file was accepted for github")
	}
}
