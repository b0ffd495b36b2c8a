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
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := mockpalette.Options{
		Tenant: *tenant, ClientID: *clientID, ClientSecret: *clientSecret, RedirectURIs: redirects,
		LoginForm: *loginForm, RefreshGrant: *refreshGrant, BaseURL: *baseURL, Logger: log,
	}
	if *usersFile != "" {
		users, err := loadUsers(*usersFile)
		if err != nil {
			return err
		}
		opts.Users = users
	}
	idp := mockpalette.New(opts)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: idp.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("mockpalette listening", "addr", ln.Addr().String(), "issuer_path", idp.IssuerPath(),
		"client_id", *clientID, "login_form", *loginForm, "refresh_grant", *refreshGrant)
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

func loadUsers(path string) ([]mockpalette.User, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	var users []mockpalette.User
	if err := yaml.Unmarshal(b, &users); err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("users file %s: no users", path)
	}
	for i, u := range users {
		if u.Subject == "" || u.Email == "" {
			return nil, fmt.Errorf("users file %s: user %d needs subject and email", path, i)
		}
	}
	return users, nil
}
