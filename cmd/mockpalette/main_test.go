package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadUsers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(good, []byte("- subject: u1\n  email: carol@example.com\n  emailVerified: false\n  givenName: Carol\n  groups: [ops]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := loadUsers(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].Email != "carol@example.com" || users[0].EmailVerified == nil || *users[0].EmailVerified || users[0].Groups[0] != "ops" {
		t.Fatalf("%+v", users)
	}
	for name, content := range map[string]string{"empty": "", "no email": "- subject: u1\n", "not yaml": "{"} {
		p := filepath.Join(dir, name+".yaml")
		_ = os.WriteFile(p, []byte(content), 0o600)
		if _, err := loadUsers(p); err == nil {
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
}
