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

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// A provider module that exists only in this file: adding it to the server needs no
// change to cmd, the router or any other package.
type throwawayConfig struct {
	Destination string `config:"destination,required"`
}

func (c *throwawayConfig) Validate(config.Section) config.Problems { return nil }

func (c *throwawayConfig) Build(providers.Deps) (providers.Provider, error) {
	return throwawayProvider{dest: c.Destination}, nil
}

type throwawayProvider struct{ dest string }

func (p throwawayProvider) Start(_ context.Context, req providers.StartRequest) (providers.StartResult, error) {
	return providers.StartResult{URL: p.dest + "?state=" + req.State}, nil
}

func (throwawayProvider) Authenticate(context.Context, providers.CallbackRequest) (providers.Result, error) {
	return providers.Result{}, nil
}

var throwawayModule = providers.Module{
	ID: "throwaway", Kind: providers.KindOAuth,
	NewConfig: func() providers.Config { return &throwawayConfig{} },
}

func TestThrowawayProviderNeedsNoChangeElsewhere(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "app-config.yaml")
	yaml := "app: {baseUrl: 'http://127.0.0.1:3000'}\nbackend:\n  baseUrl: http://127.0.0.1:7007\n" +
		"  database: {client: better-sqlite3, connection: {directory: " + dir + "}}\n" +
		"auth:\n  session: {secret: throwaway-secret-throwaway-secret-0123}\n" +
		"  providers:\n    throwaway:\n      development: {destination: 'https://idp.test/authorize'}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := build(context.Background(), []string{cfg}, slog.New(slog.DiscardHandler), append(modules(), throwawayModule))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/auth/throwaway/start?env=development", nil))
	if rec.Code != http.StatusFound || !strings.HasPrefix(rec.Header().Get("Location"), "https://idp.test/authorize?state=") {
		t.Fatalf("start: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if !strings.Contains(rec.Header().Get("Set-Cookie"), "throwaway-nonce=") {
		t.Errorf("no nonce cookie: %q", rec.Header().Values("Set-Cookie"))
	}
	// A registered module without config answers as Backstage does for one.
	rec = httptest.NewRecorder()
	a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/auth/oidc/start?env=development", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "No auth provider registered for 'oidc'") {
		t.Errorf("unconfigured module: %d %s", rec.Code, rec.Body)
	}
}
