package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(os.Args[1:], log); err != nil {
		log.Error("mockpalette failed", "err", err)
		os.Exit(1)
	}
}

func run(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("mockpalette", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7010", "address to listen on")
	tenant := fs.String("tenant", "t1", "tenant id in /v1/oidc/tenant/{tenant}")
	clientID := fs.String("client-id", "backstage-client", "OAuth client id")
	clientSecret := fs.String("client-secret", "backstage-secret", "OAuth client secret")
	var redirects listFlag
	fs.Var(&redirects, "redirect-uri", "allowed redirect_uri (repeatable; default: any)")
	usersFile := fs.String("users", "", "YAML file with the users (default: alice and bob)")
	loginForm := fs.Bool("login-form", false, "serve a form to pick the user instead of auto-approving the first")
	refreshGrant := fs.Bool("refresh-grant", false, "support the refresh_token grant (Palette has none)")
	baseURL := fs.String("base-url", "", "external base URL of the issuer (default: from the Host header)")
	personality := fs.String("personality", "palette", "IdP to imitate: palette, generic-oidc, "+strings.Join(mockvendor.Personalities(), ", "))
	expiring := fs.Bool("expiring-tokens", false, "github: a GitHub App with expiring user tokens and refresh tokens (default: an OAuth app)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key), e.g. as github.com in a test network")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	handler, attrs, err := newIdP(*personality, *usersFile, idpFlags{
		tenant: *tenant, clientID: *clientID, clientSecret: *clientSecret, redirects: redirects,
		loginForm: *loginForm, refreshGrant: *refreshGrant, expiring: *expiring, baseURL: *baseURL,
	}, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	log.Info("mockpalette listening", append([]any{"addr", ln.Addr().String(), "personality", *personality,
		"client_id", *clientID, "login_form", *loginForm, "tls", *tlsCert != ""}, attrs...)...)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("mockpalette shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type idpFlags struct {
	tenant, clientID, clientSecret, baseURL string
	redirects                               []string
	loginForm, refreshGrant, expiring       bool
}

// newIdP builds the mock for a personality: Palette and generic OIDC from
// providers/mockpalette, the vendors from providers/mockvendor.
func newIdP(personality, usersFile string, f idpFlags, log *slog.Logger) (http.Handler, []any, error) {
	switch personality {
	case "palette", "generic-oidc":
		opts := mockpalette.Options{
			Tenant: f.tenant, ClientID: f.clientID, ClientSecret: f.clientSecret, RedirectURIs: f.redirects,
			LoginForm: f.loginForm, RefreshGrant: f.refreshGrant, BaseURL: f.baseURL, Logger: log,
		}
		if personality == "generic-oidc" {
			opts.Personality = mockpalette.GenericOIDC
		}
		if usersFile != "" {
			users, err := loadUsers[mockpalette.User](usersFile, func(u mockpalette.User) bool { return u.Subject != "" && u.Email != "" }, "subject and email")
			if err != nil {
				return nil, nil, err
			}
			opts.Users = users
		}
		idp := mockpalette.New(opts)
		return idp.Handler(), []any{"issuer_path", idp.IssuerPath(), "refresh_grant", f.refreshGrant}, nil
	}
	p, ok := mockvendor.ParsePersonality(personality)
	if !ok {
		return nil, nil, fmt.Errorf("unknown personality %q (palette, generic-oidc, %s)", personality, strings.Join(mockvendor.Personalities(), ", "))
	}
	opts := mockvendor.Options{
		Personality: p, ClientID: f.clientID, ClientSecret: f.clientSecret, RedirectURIs: f.redirects,
		LoginForm: f.loginForm, ExpiringTokens: f.expiring, Logger: log,
	}
	if usersFile != "" {
		users, err := loadUsers[mockvendor.User](usersFile, func(u mockvendor.User) bool { return u.Login != "" && u.ID != 0 }, "login and id")
		if err != nil {
			return nil, nil, err
		}
		opts.Users = users
	}
	return mockvendor.New(opts).Handler(), []any{"expiring_tokens", f.expiring}, nil
}

// loadUsers reads a YAML list of users; valid says whether one has the fields named by
// need.
func loadUsers[U any](path string, valid func(U) bool, need string) ([]U, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	var users []U
	if err := yaml.Unmarshal(b, &users); err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("users file %s: no users", path)
	}
	for i, u := range users {
		if !valid(u) {
			return nil, fmt.Errorf("users file %s: user %d needs %s", path, i, need)
		}
	}
	return users, nil
}
