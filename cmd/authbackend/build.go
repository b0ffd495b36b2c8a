package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/authbackend"
	"github.com/spectrocloud-labs/backstage-auth-go/authdb"
	"github.com/spectrocloud-labs/backstage-auth-go/authserver"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/observe"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/localcatalog"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/remotecatalog"
	"github.com/spectrocloud-labs/backstage-auth-go/sessions"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"

	// Aliased: build has a local "tokens" (the catalog's late plugin-token source).
	backstagetokens "github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// Key propagation between replicas sharing a database: every replica reloads the key
// list on a NOTIFY (PostgreSQL) and at least every keyPollInterval; a new key signs only
// after keyPublishDelay, so every replica lists it before any token it signed exists.
const (
	keyPollInterval    = 2 * time.Second
	keyPublishDelay    = 3 * time.Second
	pluginKeyDuration  = time.Hour // Backstage's plugin key store: 1 h signing, listed 3 h
	pluginListDuration = 3 * time.Hour
)

type app struct {
	cfg     *config.Config
	handler http.Handler
	server  *authbackend.Server
	obs     *observe.Observability
	closers []func()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// plan is a loaded configuration whose every part (config, providers, resolvers,
// catalog selection) has been decoded and validated, before anything connects.
type plan struct {
	cfg      *config.Config
	registry *providers.Registry
	decoded  *providers.Decoded
	// oidc is the authorization server's configuration (static clients, CIMD, refresh
	// tokens).
	oidc authserver.Settings
	// warnings are problems that do not stop the server.
	warnings config.Problems
}

// prepare loads the configuration and decodes every provider and sign-in resolver
// section, contacting no IdP, database or catalog. It returns every problem at once:
// config.Problems (errors only) as the error, warnings in the plan.
func prepare(configPaths []string, reg *providers.Registry) (*plan, error) {
	cfg, err := config.Load(config.LoadOptions{ConfigPaths: configPaths})
	var problems config.Problems
	root := config.Section{}
	if err != nil {
		var le *config.LoadError
		if !errors.As(err, &le) {
			return nil, err
		}
		problems, root = le.Problems, le.Root
	} else {
		problems, root = cfg.Warnings, cfg.Root
	}
	decoded, ps := reg.Decode(config.ProviderSections(root.Sub("auth")))
	problems = append(problems, ps...)
	oidc, ps := authserver.DecodeSettings(root.Sub("auth"))
	problems = append(problems, ps...)
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return &plan{cfg: cfg, registry: reg, decoded: decoded, oidc: oidc, warnings: problems.Warnings()}, nil
}

// build loads and validates the configuration, then wires every component with the
// given provider modules. Nothing connects to the network before the whole
// configuration is known to be valid.
func build(ctx context.Context, configPaths []string, logger *slog.Logger, mods []providers.Module) (*app, error) {
	reg, err := providers.NewRegistry(mods...)
	if err != nil {
		return nil, err
	}
	pl, err := prepare(configPaths, reg)
	if err != nil {
		return nil, err
	}
	for _, w := range pl.warnings {
		logger.Warn("configuration: " + w.String())
	}
	cfg := pl.cfg
	a := &app{cfg: cfg}
	if cfg.DevelopmentMode {
		logger.Info("development mode (NODE_ENV=development)")
	}

	obs, err := observe.New(ctx, cfg, logger, os.Getenv)
	if err != nil {
		return nil, err
	}
	a.obs = obs
	a.closers = append(a.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		obs.Close(ctx)
	})

	// The catalog's plugin-token source needs the database, which is opened only after
	// validation; the remote catalog reads it through this indirection.
	tokens := &lateTokenSource{}
	catalog, startCatalog, err := buildCatalog(cfg, tokens, logger, obs.CatalogHTTPClient())
	if err != nil {
		a.close()
		return nil, err
	}
	catalog = obs.WrapCatalog(catalog)
	bd := providers.BuildDeps{
		Logger: logger, DevelopmentMode: cfg.DevelopmentMode, AuthBaseURL: cfg.AuthBaseURL(), Catalog: catalog,
	}
	if obs.Wraps() {
		bd.HTTPClientFor = obs.IdPClient
	}
	provs, err := pl.decoded.Build(bd)
	if err != nil {
		a.close()
		return nil, err
	}
	if catalog == nil && hasResolvers(provs) {
		logger.Warn("sign-in resolvers are configured without a catalog: lookups find no user")
	}

	runCtx, cancel := context.WithCancel(context.Background())
	a.closers = append(a.closers, cancel)

	db, err := authdb.Open(ctx, databaseOptions(cfg, logger))
	if err != nil {
		a.close()
		return nil, fmt.Errorf("database: %w", err)
	}
	a.closers = append(a.closers, func() { _ = db.Close() })
	logger.Info("database ready", "database", db.Describe())
	obs.DBStats("auth", db.Stats)

	shared := cfg.Backend.Database.Client == "pg"
	keySetOpts := func(store signingkeys.KeyStore, keyDuration, listDuration time.Duration) signingkeys.KeySetOptions {
		o := signingkeys.KeySetOptions{Store: store, KeyDuration: keyDuration, ListDuration: listDuration,
			PollInterval: keyPollInterval, Logger: logger}
		if shared {
			o.PublishDelay = keyPublishDelay
		}
		return o
	}

	var userKeys signingkeys.KeySource
	switch cfg.Auth.KeyStore.Provider {
	case "static":
		files := make([]signingkeys.StaticKeyFile, len(cfg.Auth.KeyStore.Static))
		for i, k := range cfg.Auth.KeyStore.Static {
			files[i] = signingkeys.StaticKeyFile{PublicKeyFile: k.PublicKeyFile, PrivateKeyFile: k.PrivateKeyFile, KeyID: k.KeyID, Algorithm: k.Algorithm}
		}
		static, err := signingkeys.NewStaticKeySet(files)
		if err != nil {
			a.close()
			return nil, fmt.Errorf("auth.keyStore.static: %w", err)
		}
		userKeys = static
	case "memory":
		logger.Warn("auth.keyStore.provider is memory: tokens from other replicas will not verify here")
		ks := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: obs.WrapKeyStore("user", signingkeys.NewMemoryKeyStore()), KeyDuration: cfg.Auth.BackstageTokenExpiration, Logger: logger})
		if err := ks.Start(runCtx); err != nil {
			a.close()
			return nil, fmt.Errorf("user signing keys: %w", err)
		}
		userKeys = ks
	default:
		ks := signingkeys.NewKeySet(keySetOpts(obs.WrapKeyStore("user", db.SigningKeys()), cfg.Auth.BackstageTokenExpiration, 0))
		// Start loads the stored keys and inserts this replica's first key before it
		// returns (a failure there is logged and retried in the background); the key
		// signs only after keyPublishDelay, which readiness does not wait for.
		if err := ks.Start(runCtx); err != nil {
			a.close()
			return nil, fmt.Errorf("user signing keys: %w", err)
		}
		userKeys = ks
	}
	pluginKeys := signingkeys.NewKeySet(keySetOpts(obs.WrapKeyStore("plugin", db.PluginKeys()), pluginKeyDuration, pluginListDuration))
	if err := pluginKeys.Start(runCtx); err != nil {
		a.close()
		return nil, fmt.Errorf("plugin signing keys: %w", err)
	}
	tokens.set(backstagetokens.NewPluginTokenIssuer(pluginKeys, "auth", nil))

	issuer := backstagetokens.NewIssuer(backstagetokens.IssuerOptions{
		Issuer:             cfg.AuthBaseURL(),
		Keys:               userKeys,
		Expiration:         cfg.Auth.BackstageTokenExpiration,
		OmitOwnershipClaim: cfg.Auth.OmitIdentityTokenOwnershipClaim,
		UserInfo:           obs.WrapUserInfo(db.UserInfo()),
		Logger:             logger,
	})
	obs.KeysServed("user", userKeys)
	obs.KeysServed("plugin", pluginKeys)
	// The revoked set must be loaded before the first refresh is answered.
	sessionRegistry := sessions.New(sessions.Options{Store: db.Sessions(), Logger: logger})
	if err := sessionRegistry.Start(runCtx); err != nil {
		a.close()
		return nil, fmt.Errorf("sessions: %w", err)
	}
	if startCatalog != nil {
		if err := startCatalog(runCtx); err != nil {
			logger.Warn("catalog watch not started", "error", err)
		}
	}

	as, err := authserver.New(authserver.Options{
		Logger: logger, Config: cfg, Settings: pl.oidc,
		Sessions: db.OAuthSessions(), Codes: db.OIDCCodes(), Offline: db.OfflineSessions(),
		Issuer: obs.WrapIssuer(issuer), Verifier: backstagetokens.NewVerifier(userKeys, nil),
		Users: catalogUsers(catalog), Auditor: obs.Auditor(),
	})
	if err != nil {
		a.close()
		return nil, err
	}
	as.Start(runCtx)
	var authServer authbackend.AuthorizationServer
	if as.Enabled() {
		authServer = as
		if cfg.Backend.Database.Client != "pg" && pl.oidc.Refresh.Enabled {
			logger.Info("refresh tokens on SQLite: rotation is still a single compare-and-swap update, safe under concurrency")
		}
	}

	srv, err := authbackend.New(authbackend.Options{
		Logger:              logger,
		Config:              cfg,
		Issuer:              obs.WrapIssuer(issuer),
		Verifier:            backstagetokens.NewVerifier(userKeys, nil),
		UserInfo:            issuer,
		UserKeys:            userKeys,
		PluginKeys:          pluginKeys,
		Health:              db,
		Sessions:            sessionRegistry,
		PluginTokens:        pluginTokenVerifier(cfg, logger),
		Providers:           provs,
		RegisteredIDs:       reg.IDs(),
		Metrics:             obs.RouterMetrics(),
		AuthorizationServer: authServer,
		Auditor:             obs.Auditor(),
		Middleware:          obs.Middleware(),
	})
	if err != nil {
		a.close()
		return nil, err
	}
	a.server = srv
	a.handler = srv.Handler()
	return a, nil
}

// catalogMode is the catalog sign-in resolvers search: an explicit
// authbackend.catalog.mode; else a discovery.endpoints entry for the catalog plugin
// means the remote Backstage catalog; else catalog.locations files mean the local one;
// else none (resolvers then fail clearly, and the guest provider uses its config).
func catalogMode(cfg *config.Config) string {
	mode := cfg.Catalog.Mode
	if mode == "" {
		switch {
		case cfg.HasDiscoveryEndpoint("catalog"):
			mode = "remote"
		case len(cfg.Catalog.Locations) > 0:
			mode = "local"
		default:
			mode = "none"
		}
	}
	return mode
}

// buildCatalog builds the catalog catalogMode selects; the local one reads its files.
func buildCatalog(cfg *config.Config, tokens remotecatalog.TokenSource, logger *slog.Logger, hc *http.Client) (resolvers.Catalog, func(context.Context) error, error) {
	switch catalogMode(cfg) {
	case "remote":
		base := strings.TrimSuffix(cfg.InternalBaseURL("catalog"), "/")
		rc, err := remotecatalog.New(remotecatalog.Options{
			BaseURL: base, Tokens: tokens, StaticToken: cfg.Catalog.RemoteToken,
			CacheTTL: cfg.Catalog.RemoteCacheTTL, Timeout: cfg.Catalog.RemoteTimeout, Logger: logger, HTTPClient: hc,
		})
		if err != nil {
			return nil, nil, config.Problems{cfg.Root.Sub("authbackend").Problem("catalog", "remote catalog at %s: %v", base, err)}
		}
		logger.Info("catalog: remote Backstage catalog", "url", base)
		return rc, nil, nil
	case "local":
		lc, err := localcatalog.New(localcatalog.Options{Locations: cfg.Catalog.Locations, Rules: cfg.Catalog.Rules, Logger: logger})
		if err != nil {
			return nil, nil, config.Problems{cfg.Root.Sub("catalog").Problem("locations", "%v", err)}
		}
		for _, p := range lc.Problems() {
			logger.Warn("catalog entity skipped", "problem", p.String())
		}
		logger.Info("catalog: local files", "locations", len(cfg.Catalog.Locations))
		return lc, lc.Start, nil
	default:
		logger.Info("catalog: none configured; sign-in resolvers will not find users")
		return nil, nil, nil
	}
}

func hasResolvers(provs []providers.Configured) bool {
	for _, p := range provs {
		for _, e := range p.Envs {
			if e.Resolver != nil && p.Kind == providers.KindOAuth {
				return true
			}
		}
	}
	return false
}

// databaseOptions maps backend.database (with backend.database.plugin.auth over it) to
// the store, as Backstage's DatabaseManager does for the auth plugin.
func databaseOptions(cfg *config.Config, logger *slog.Logger) authdb.Options {
	d := cfg.Backend.Database
	o := authdb.Options{Client: d.Client, EnsureExists: d.EnsureExists, SkipMigrations: d.SkipMigrations, Logger: logger}
	if d.Client != "pg" {
		switch {
		case d.Connection.Filename != "":
			o.SQLitePath = d.Connection.Filename
		case d.Connection.Directory != "":
			o.SQLitePath = filepath.Join(d.Connection.Directory, "auth.sqlite")
		default:
			o.SQLitePath = filepath.Join(config.DefaultDatabaseDir, "auth.sqlite")
		}
		return o
	}
	o.PGConnString = pgConnString(d.Connection)
	if d.PluginDivisionMode == "schema" {
		o.PGDatabase = d.Connection.Database
		o.PGSchema = d.SchemaPrefix + "auth"
	} else if d.Connection.Database != "" {
		o.PGDatabase = d.Connection.Database
	} else {
		o.PGDatabase = d.Prefix + "auth"
	}
	return o
}

func pgConnString(c config.DatabaseConnection) string {
	if c.ConnectionString != "" {
		return c.ConnectionString
	}
	u := url.URL{Scheme: "postgres", Host: c.Host, Path: "/postgres"}
	if c.Host == "" {
		u.Host = "localhost"
	}
	if c.Port != 0 {
		u.Host += ":" + strconv.Itoa(c.Port)
	}
	if c.User != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.User, c.Password)
		} else {
			u.User = url.User(c.User)
		}
	}
	q := url.Values{}
	if c.SSLMode != "" {
		q.Set("sslmode", c.SSLMode)
	} else {
		q.Set("sslmode", "prefer")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// lateTokenSource hands out plugin tokens once the plugin key set exists.
type lateTokenSource struct{ src remotecatalog.TokenSource }

func (l *lateTokenSource) set(src remotecatalog.TokenSource) { l.src = src }

func (l *lateTokenSource) PluginToken(ctx context.Context, target string) (string, error) {
	if l.src == nil {
		return "", fmt.Errorf("plugin tokens are not available yet")
	}
	return l.src.PluginToken(ctx, target)
}

// pluginTokenVerifier verifies the plugin tokens other backend plugins send to auth,
// with each calling plugin's keys from <its discovery base URL>/.backstage/auth/v1/jwks.json,
// as Backstage's PluginTokenHandler does.
func pluginTokenVerifier(cfg *config.Config, logger *slog.Logger) *backstagetokens.PluginTokenVerifier {
	return backstagetokens.NewPluginTokenVerifier("auth", func(pluginID string) (backstagetokens.SignatureVerifier, error) {
		return keyfetch.NewJWKS(cfg.InternalBaseURL(pluginID)+"/.backstage/auth/v1/jwks.json", keyfetch.Options{
			Name: "plugin " + pluginID, Logger: logger, Algs: []string{signingkeys.AlgES256},
		})
	}, nil)
}
