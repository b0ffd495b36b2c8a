package config

import "time"

// Config is the typed view of the app-config keys this server uses. Load fills it
// (defaults applied, durations clamped, everything validated); Root gives raw access
// for sections decoded elsewhere (providers and their sign-in resolvers), which
// return their own problems.
type Config struct {
	// Root is the merged tree; Root.Sub("auth").Sub("providers") etc.
	Root Section
	// Warnings are problems that do not stop the server (unknown keys, ...).
	Warnings Problems
	// Files are the config files loaded, in order of increasing precedence.
	Files []string
	// DevelopmentMode is NODE_ENV=development (guest provider allowed, error stacks shown).
	DevelopmentMode bool

	App       AppConfig
	Backend   BackendConfig
	Auth      AuthConfig
	Catalog   CatalogConfig
	Discovery DiscoveryConfig
	// Demo is this server's own key `authbackend.demoPage`; nothing in Backstage reads it.
	Demo DemoConfig
	// RateLimit is this server's own key `authbackend.rateLimit`.
	RateLimit OwnRateLimitConfig
}

// AppConfig is `app`.
type AppConfig struct {
	// BaseURL is app.baseUrl (required); its origin is the default allowed origin.
	BaseURL string
}

// BackendConfig is `backend`.
type BackendConfig struct {
	BaseURL string       // backend.baseUrl (required)
	Listen  ListenConfig // backend.listen: {host, port} or "host:port" / ":port"
	// HTTPS is true when backend.https is set to anything but false (we do not terminate
	// TLS; it only changes the derived internal URL scheme, as in Backstage, which
	// however also treats `https: false` as set).
	HTTPS      bool
	TrustProxy bool
	CORS       *CORSConfig // nil when backend.cors is absent: no CORS headers at all
	// CSP is backend.csp: directive -> values; a nil slice (YAML false) removes the directive.
	CSP      map[string][]string
	Referrer string // backend.referrer policy; default "no-referrer"
	Database DatabaseConfig
	Auth     BackendAuthConfig
	// RateLimit is Backstage's backend.rateLimit (every route; nil when absent or
	// `global: false`); PluginRateLimit is backend.rateLimit.plugin.auth (nil when absent).
	RateLimit       *RateLimitConfig
	PluginRateLimit *RateLimitConfig
}

// RateLimitConfig is one of Backstage's rate-limit sections (express-rate-limit over a
// fixed window, keyed by client address).
type RateLimitConfig struct {
	// Window is `window` (default 1 minute).
	Window time.Duration
	// Limit is `incomingRequestLimit`: requests per client per window (Backstage's
	// default, express-rate-limit's, is 5).
	Limit int
	// IPAllowList are client addresses never limited (default loopback).
	IPAllowList []string
	// SkipSuccessfulRequests / SkipFailedRequests do not count 2xx-3xx / 4xx-5xx answers.
	SkipSuccessfulRequests bool
	SkipFailedRequests     bool
}

// OwnRateLimitConfig is authbackend.rateLimit (ours): limits on the routes that make the
// server call an IdP or the catalog (/start, /handler/frame, /refresh) and on
// /v1/userinfo requests that miss the cache. On by default.
type OwnRateLimitConfig struct {
	Enabled bool
	// Window (default 1 minute) and Limit (default 300 per client and window) for the
	// sign-in routes; UserInfoLimit (default 600) for userinfo cache misses.
	Window        time.Duration
	Limit         int
	UserInfoLimit int
	IPAllowList   []string
}

// ListenConfig is backend.listen.
type ListenConfig struct {
	Host string // "" means all interfaces
	Port int    // default 7007
}

// CORSConfig is backend.cors, applied like the `cors` middleware Backstage uses.
type CORSConfig struct {
	// Origins are exact origins or minimatch-style globs (case-insensitive); "*" allows
	// any, and is what an absent backend.cors.origin gives (the cors default).
	Origins []string
	Methods []string // default GET,HEAD,PUT,PATCH,POST,DELETE
	// AllowedHeaders nil means reflect Access-Control-Request-Headers.
	AllowedHeaders       []string
	ExposedHeaders       []string
	Credentials          bool
	MaxAge               *int // seconds; nil omits the header
	OptionsSuccessStatus int  // default 204
}

// DatabaseConfig is backend.database, with backend.database.plugin.auth merged over it.
// When backend.database is absent entirely, this server uses better-sqlite3 with
// Connection.Directory = <WorkDir>/data (see DefaultDatabaseDir), not Backstage's
// in-memory default, so signing keys survive a restart.
type DatabaseConfig struct {
	// Client is "better-sqlite3", "sqlite3" or "pg".
	Client     string
	Connection DatabaseConnection
	// Prefix is the database name prefix in pluginDivisionMode "database" (default "backstage_plugin_").
	Prefix string
	// PluginDivisionMode is "database" (default) or "schema" (pg only).
	PluginDivisionMode string
	SchemaPrefix       string // default ""; schema name is SchemaPrefix+"auth"
	EnsureExists       bool   // default true: create the database/schema when missing
	SkipMigrations     bool
}

// DatabaseConnection is backend.database.connection in any of its shapes.
type DatabaseConnection struct {
	// ConnectionString is set when `connection` is a string for pg (a postgres:// URL
	// or key=value DSN).
	ConnectionString string
	Host             string
	Port             int
	User             string
	Password         string
	Database         string // explicit database; overrides the per-plugin name
	// SSL is connection.ssl (bool or object) reduced to a libpq sslmode; "" leaves the default.
	SSLMode string
	// Directory is the SQLite directory (auth.sqlite is created inside it).
	Directory string
	// Filename is the SQLite file, or ":memory:".
	Filename string
}

// BackendAuthConfig is backend.auth.
type BackendAuthConfig struct {
	ExternalAccess []ExternalAccess
}

// ExternalAccess is one backend.auth.externalAccess entry.
type ExternalAccess struct {
	Type    string // "static" or "legacy" (others are accepted and ignored)
	Token   string // static: options.token
	Subject string // static: options.subject
	Secret  string // legacy: options.secret (base64)
}

// AuthConfig is `auth`.
type AuthConfig struct {
	SessionSecret string // auth.session.secret; "" means generate a random one (with a warning)
	// BackstageTokenExpiration is clamped to [10m, 24h]; default 1h.
	BackstageTokenExpiration time.Duration
	// IdentityTokenAlgorithm; only ES256 is supported (anything else is a problem).
	IdentityTokenAlgorithm string
	// OmitIdentityTokenOwnershipClaim defaults to true.
	OmitIdentityTokenOwnershipClaim bool
	KeyStore                        KeyStoreConfig
	// ExtraAllowedOrigins is auth.experimentalExtraAllowedOrigins (minimatch globs).
	ExtraAllowedOrigins []string
	// Providers are the sections auth.providers.<id>; the provider modules decode them.
	Providers map[string]Section
}

// KeyStoreConfig is auth.keyStore.
type KeyStoreConfig struct {
	Provider string // "database" (default), "memory", "static"
	Static   []StaticKey
}

// StaticKey is one auth.keyStore.static.keys[] entry.
type StaticKey struct {
	PublicKeyFile  string // SPKI PEM
	PrivateKeyFile string // PKCS#8 PEM
	KeyID          string
	Algorithm      string // default ES256
}

// CatalogConfig is what this server needs of `catalog` plus its own selection key.
type CatalogConfig struct {
	// Mode is the explicit choice from `authbackend.catalog.mode`: "local", "remote",
	// "none", or "" (auto: a discovery.endpoints entry for the catalog plugin means
	// remote; else file locations mean local; else none).
	Mode      string
	Locations []CatalogLocation
	Rules     []CatalogRule
	// RemoteToken is `authbackend.catalog.token`: a static external-access token to use
	// instead of plugin tokens when calling a remote catalog.
	RemoteToken string
	// RemoteCacheTTL is `authbackend.catalog.cacheTtl` (default 10s).
	RemoteCacheTTL time.Duration
	// RemoteTimeout is `authbackend.catalog.timeout` (default 5s).
	RemoteTimeout time.Duration
}

// CatalogLocation is one catalog.locations entry. Target is resolved against the
// working directory for type "file", as Backstage does.
type CatalogLocation struct {
	Type   string
	Target string
	Rules  []CatalogRule // per-location rules
}

// CatalogRule is one catalog.rules entry: which entity kinds may come from locations.
type CatalogRule struct {
	Allow     []string // entity kinds
	Locations []CatalogRuleLocation
}

// CatalogRuleLocation restricts a rule to locations (type, exact target or pattern).
type CatalogRuleLocation struct {
	Type    string
	Target  string
	Pattern string
}

// DiscoveryConfig is discovery.endpoints.
type DiscoveryConfig struct {
	Endpoints []DiscoveryEndpoint
}

// DiscoveryEndpoint maps plugins to internal/external base URLs; {{pluginId}} and
// {{ pluginId }} in targets are replaced by the plugin id.
type DiscoveryEndpoint struct {
	Plugins  []string
	Internal string
	External string
}

// DemoConfig is authbackend.demoPage.
type DemoConfig struct {
	Enabled bool
	// Provider is the provider id the demo button signs in with (default spectrocloud).
	Provider string
	// Env is the provider environment (default development).
	Env string
}
