package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults and bounds applied by fill, as in Backstage unless noted.
const (
	DefaultListenPort      = 7007
	DefaultTokenExpiration = time.Hour
	MinTokenExpiration     = 10 * time.Minute
	MaxTokenExpiration     = 24 * time.Hour
	DefaultDatabasePrefix  = "backstage_plugin_"
	DefaultCatalogCacheTTL = 10 * time.Second
	DefaultCatalogTimeout  = 5 * time.Second
	// DefaultDatabaseDir is where the embedded SQLite database lives (relative to the
	// working directory) when backend.database is absent. Backstage itself would use
	// an in-memory SQLite, which loses every signing key at restart; this server keeps
	// them in ./data/auth.sqlite instead.
	DefaultDatabaseDir = "data"
)

var defaultCORSMethods = []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"}

var referrerPolicies = map[string]bool{
	"no-referrer": true, "no-referrer-when-downgrade": true, "origin": true,
	"origin-when-cross-origin": true, "same-origin": true, "strict-origin": true,
	"strict-origin-when-cross-origin": true, "unsafe-url": true,
}

// fill builds the typed view from r (over c.Root); every problem lands in r's list.
func (c *Config) fill(l *loader, r *Reader) {
	if v, _ := l.lookup("NODE_ENV"); v == "development" {
		c.DevelopmentMode = true
	}
	c.App.BaseURL = httpURL(r.Sub("app"), "baseUrl")
	c.Backend = readBackend(r.Sub("backend"), l.workDir)
	c.Auth = readAuth(r.Sub("auth"), l.workDir, c.DevelopmentMode)
	c.Catalog = readCatalog(r.Sub("catalog"), r.Sub("authbackend").Sub("catalog"), l.workDir)
	c.Discovery = readDiscovery(r.Sub("discovery"))
	c.RateLimit = readOwnRateLimit(r.Sub("authbackend").Sub("rateLimit"))
	demo := r.Sub("authbackend").Sub("demoPage")
	c.Demo = DemoConfig{
		Enabled:  demo.Bool("enabled", false),
		Provider: stringOr(demo, "provider", "spectrocloud"),
		Env:      stringOr(demo, "env", "development"),
	}
}

func stringOr(r *Reader, key, def string) string {
	if s := r.String(key); s != "" {
		return s
	}
	return def
}

// httpURL reads a required absolute http(s) URL.
func httpURL(r *Reader, key string) string {
	s := r.RequiredString(key)
	if s == "" {
		return ""
	}
	if !isHTTPURL(s) {
		r.Problemf(key, "must be an absolute http(s) URL, got %q", s)
	}
	return s
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func readBackend(b *Reader, workDir string) BackendConfig {
	cfg := BackendConfig{
		BaseURL:  httpURL(b, "baseUrl"),
		Listen:   readListen(b),
		Referrer: readReferrer(b),
		Database: readDatabase(b, workDir),
	}
	// Backstage switches to https on has('backend.https'), even for `https: false`;
	// here false means false.
	if v := b.Raw("https"); v != nil {
		if on, isBool := v.(bool); !isBool || on {
			cfg.HTTPS = true
		}
	}
	if v := b.Raw("trustProxy"); v != nil {
		switch v.(type) {
		case bool, string:
			cfg.TrustProxy = b.Bool("trustProxy", false)
		default:
			// Express also takes hop counts and subnet lists; guessing would be unsafe.
			b.Problemf("trustProxy", "only true or false is supported by this server, got %s", TypeName(v))
		}
	}
	if b.Has("cors") {
		cfg.CORS = readCORS(b.Sub("cors"))
	}
	cfg.RateLimit, cfg.PluginRateLimit = readBackendRateLimit(b)
	if b.Has("csp") {
		cfg.CSP = readCSP(b.Sub("csp"))
	}
	for _, e := range b.Sub("auth").List("externalAccess") {
		cfg.Auth.ExternalAccess = append(cfg.Auth.ExternalAccess, readExternalAccess(e))
	}
	return cfg
}

func readListen(b *Reader) ListenConfig {
	lc := ListenConfig{Port: DefaultListenPort}
	switch v := b.Raw("listen").(type) {
	case nil:
	case string:
		host, port, err := parseListen(v)
		if err != nil {
			b.Problemf("listen", "unable to parse listen address %q, expected <port> or <host>:<port>", v)
			break
		}
		lc.Host, lc.Port = host, port
	default:
		l := b.Sub("listen")
		lc.Host = l.String("host")
		lc.Port = l.Int("port", DefaultListenPort)
		if lc.Port < 0 || lc.Port > 65535 {
			l.Problemf("port", "must be between 0 and 65535, got %d", lc.Port)
			lc.Port = DefaultListenPort
		}
	}
	return lc
}

func parseListen(s string) (string, int, error) {
	s = strings.TrimSpace(s)
	host, portStr := "", s
	if strings.Contains(s, ":") {
		var err error
		if host, portStr, err = net.SplitHostPort(s); err != nil {
			return "", 0, err
		}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", portStr)
	}
	return host, port, nil
}

func readReferrer(b *Reader) string {
	var policies []string
	switch v := b.Raw("referrer").(type) {
	case nil:
		return "no-referrer"
	case string:
		policies = []string{v}
	default:
		ref := b.Sub("referrer")
		if ref.Has("policy") {
			policies = ref.StringOrList("policy")
		}
	}
	for _, p := range policies {
		if !referrerPolicies[p] {
			b.Problemf("referrer", "unknown referrer policy %q", p)
			return "no-referrer"
		}
	}
	if len(policies) == 0 {
		return "no-referrer"
	}
	return strings.Join(policies, ",")
}

// stringArray is Backstage's readStringArray for CORS: a string is one element.
func stringArray(r *Reader, key string) []string {
	if s, ok := r.Raw(key).(string); ok {
		return []string{s}
	}
	return r.StringList(key)
}

func readCORS(c *Reader) *CORSConfig {
	cors := &CORSConfig{
		Origins:              stringArray(c, "origin"),
		Methods:              stringArray(c, "methods"),
		AllowedHeaders:       stringArray(c, "allowedHeaders"),
		ExposedHeaders:       stringArray(c, "exposedHeaders"),
		Credentials:          c.Bool("credentials", false),
		OptionsSuccessStatus: c.Int("optionsSuccessStatus", 204),
	}
	// Without an origin the cors middleware answers a literal "*" (nil Origins), which
	// browsers never combine with credentials; it must not become "echo any origin".
	if cors.Methods == nil {
		cors.Methods = append([]string(nil), defaultCORSMethods...)
	}
	if c.Has("maxAge") {
		n := c.Int("maxAge", 0)
		cors.MaxAge = &n
	}
	if s := cors.OptionsSuccessStatus; s < 200 || s > 299 {
		c.Problemf("optionsSuccessStatus", "must be a 2xx status, got %d", s)
		cors.OptionsSuccessStatus = 204
	}
	return cors
}

func readCSP(c *Reader) map[string][]string {
	out := map[string][]string{}
	for _, k := range c.Keys() {
		if !IsValidKey(k) {
			c.Problemf(k, "invalid CSP directive name")
			continue
		}
		switch v := c.Raw(k).(type) {
		case bool:
			if v {
				c.Problemf(k, "must be a list of strings or false")
				continue
			}
			out[k] = nil
		case []any:
			out[k] = c.StringList(k)
			if out[k] == nil {
				out[k] = []string{}
			}
		default:
			c.Problemf(k, "must be a list of strings or false, got %s", TypeName(v))
		}
	}
	return out
}

func readExternalAccess(e *Reader) ExternalAccess {
	ea := ExternalAccess{Type: e.RequiredString("type")}
	o := e.Sub("options")
	switch ea.Type {
	case "static":
		ea.Token = o.RequiredString("token")
		ea.Subject = o.RequiredString("subject")
		if ea.Token != "" && (len(ea.Token) < 8 || strings.ContainsFunc(ea.Token, isSpace)) {
			o.Problemf("token", "illegal token: must be at least 8 characters, none of them whitespace")
		}
		if strings.ContainsFunc(ea.Subject, isSpace) {
			o.Problemf("subject", "illegal subject: must not contain whitespace")
		}
	case "legacy":
		ea.Secret = o.RequiredString("secret")
		ea.Subject = o.RequiredString("subject")
		if ea.Secret != "" && !isBase64(ea.Secret) {
			o.Problemf("secret", "must be base64")
		}
	}
	return ea
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

func isBase64(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}

func readDatabase(b *Reader, workDir string) DatabaseConfig {
	if !b.Has("database") {
		// Our embedded default (see DefaultDatabaseDir): a SQLite file, not memory.
		return DatabaseConfig{
			Client:             "better-sqlite3",
			Connection:         DatabaseConnection{Directory: filepath.Join(workDir, DefaultDatabaseDir)},
			Prefix:             DefaultDatabasePrefix,
			PluginDivisionMode: "database",
			EnsureExists:       true,
		}
	}
	db := b.Sub("database")
	plugin := db.Sub("plugin").Sub("auth")
	// pick prefers backend.database.plugin.auth.<key> over backend.database.<key>.
	pick := func(key string) *Reader {
		if plugin.Has(key) {
			return plugin
		}
		return db
	}

	cfg := DatabaseConfig{
		Prefix:             stringOr(pick("prefix"), "prefix", DefaultDatabasePrefix),
		PluginDivisionMode: stringOr(db, "pluginDivisionMode", "database"),
		SchemaPrefix:       pick("schemaPrefix").String("schemaPrefix"),
		EnsureExists:       pick("ensureExists").Bool("ensureExists", true),
		SkipMigrations:     pick("skipMigrations").Bool("skipMigrations", false),
	}
	cr := pick("client")
	cfg.Client = cr.RequiredString("client")
	switch cfg.Client {
	case "pg", "postgres", "postgresql":
		cfg.Client = "pg"
	case "better-sqlite3", "sqlite3", "":
	case "mysql", "mysql2":
		cr.Problemf("client", "%s is not supported by this server; use pg, better-sqlite3 or sqlite3", cfg.Client)
	default:
		cr.Problemf("client", "unknown database client %q (expected pg, better-sqlite3 or sqlite3)", cfg.Client)
	}
	switch cfg.PluginDivisionMode {
	case "database":
	case "schema":
		if cfg.Client != "pg" {
			db.Problemf("pluginDivisionMode", "schema mode needs the pg client")
		}
	default:
		db.Problemf("pluginDivisionMode", "unknown plugin division mode %q (expected database or schema)", cfg.PluginDivisionMode)
	}

	// A plugin-level client different from the base one means the base connection
	// belongs to another database server and is not inherited (as in Backstage).
	conns := []*Reader{plugin}
	if !plugin.Has("client") || plugin.String("client") == db.String("client") {
		conns = append(conns, db)
	}
	cfg.Connection = readConnection(cfg.Client, conns, workDir)
	return cfg
}

// readConnection reads `connection` from the first reader that has it, merging object
// fields from later readers when every present value is an object.
func readConnection(client string, rs []*Reader, workDir string) DatabaseConnection {
	var present []*Reader
	for _, r := range rs {
		if r.Has("connection") {
			present = append(present, r)
		}
	}
	var conn DatabaseConnection
	if len(present) == 0 {
		if client == "pg" {
			rs[len(rs)-1].Problemf("connection", "missing required config value")
		} else if client != "" {
			conn.Filename = ":memory:"
		}
		return conn
	}
	if s, ok := present[0].Raw("connection").(string); ok {
		if client == "pg" {
			conn.ConnectionString = strings.TrimSpace(s)
		} else {
			conn.Filename = sqlitePath(s, workDir)
		}
		return conn
	}
	// Objects: the first (plugin) wins field by field over the later (base) ones.
	var subs []*Reader
	for _, r := range present {
		if _, ok := r.Raw("connection").(string); ok {
			break
		}
		subs = append(subs, r.Sub("connection"))
	}
	field := func(key string) *Reader {
		for _, s := range subs {
			if s.Has(key) {
				return s
			}
		}
		return subs[0]
	}
	if client == "pg" {
		conn.ConnectionString = field("connectionString").String("connectionString")
		conn.Host = field("host").String("host")
		conn.Port = field("port").Int("port", 0)
		conn.User = field("user").String("user")
		conn.Password = field("password").String("password")
		conn.Database = field("database").String("database")
		conn.SSLMode = readSSL(field("ssl"))
		if conn.Port < 0 || conn.Port > 65535 {
			field("port").Problemf("port", "must be between 0 and 65535, got %d", conn.Port)
		}
		return conn
	}
	dirR, fileR := field("directory"), field("filename")
	dir, file := dirR.String("directory"), fileR.String("filename")
	switch {
	case dir != "" && file != "":
		dirR.Problemf("directory", "set either directory or filename, not both")
	case dir != "":
		conn.Directory = sqlitePath(dir, workDir)
	case file != "":
		conn.Filename = sqlitePath(file, workDir)
	default:
		conn.Filename = ":memory:"
	}
	return conn
}

func sqlitePath(p, workDir string) string {
	p = strings.TrimSpace(p)
	if p == ":memory:" || p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(workDir, p)
}

// readSSL reduces node-postgres' `ssl` (bool, object or libpq mode) to a libpq sslmode.
func readSSL(r *Reader) string {
	switch v := r.Raw("ssl").(type) {
	case nil:
		return ""
	case bool:
		if v {
			return "verify-full" // node-postgres verifies certificates unless told not to
		}
		return "disable"
	case string:
		switch v {
		case "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
			return v
		case "true":
			return "verify-full"
		case "false":
			return "disable"
		}
		r.Problemf("ssl", "unknown ssl mode %q", v)
		return ""
	default:
		if !r.Sub("ssl").Bool("rejectUnauthorized", true) {
			return "require"
		}
		return "verify-full"
	}
}

func readAuth(a *Reader, workDir string, development bool) AuthConfig {
	cfg := AuthConfig{
		SessionSecret:                   a.Sub("session").String("secret"),
		BackstageTokenExpiration:        DefaultTokenExpiration,
		IdentityTokenAlgorithm:          stringOr(a, "identityTokenAlgorithm", "ES256"),
		OmitIdentityTokenOwnershipClaim: a.Bool("omitIdentityTokenOwnershipClaim", true),
		ExtraAllowedOrigins:             a.StringList("experimentalExtraAllowedOrigins"),
		Providers:                       map[string]Section{},
	}
	if err := checkSessionSecret(cfg.SessionSecret, development); err != nil {
		a.Sub("session").Problemf("secret", "%v", err)
	}
	if d, ok := a.Duration("backstageTokenExpiration"); ok {
		cfg.BackstageTokenExpiration = ClampTokenExpiration(d)
	}
	if cfg.IdentityTokenAlgorithm != "ES256" {
		a.Problemf("identityTokenAlgorithm", "unsupported algorithm %q; this server supports only ES256", cfg.IdentityTokenAlgorithm)
	}
	cfg.KeyStore = readKeyStore(a.Sub("keyStore"), workDir)

	providers := a.Sub("providers")
	for _, id := range providers.Keys() {
		if !IsValidKey(id) {
			providers.Problemf(id, "invalid provider id")
		} else if !providers.IsObject(id) {
			providers.Problemf(id, "must be an object, got %s", TypeName(providers.Raw(id)))
		}
	}
	cfg.Providers = ProviderSections(a.Section)
	return cfg
}

// ClampTokenExpiration applies Backstage's readBackstageTokenExpiration: whole seconds
// (rounded down), then clamped to [10m, 24h].
func ClampTokenExpiration(d time.Duration) time.Duration {
	d = d.Truncate(time.Second)
	return min(max(d, MinTokenExpiration), MaxTokenExpiration)
}

func readKeyStore(ks *Reader, workDir string) KeyStoreConfig {
	cfg := KeyStoreConfig{Provider: stringOr(ks, "provider", "database")}
	switch cfg.Provider {
	case "database", "memory":
	case "firestore":
		ks.Problemf("provider", "firestore is not supported by this server; use database, memory or static")
	case "static":
		static := ks.Sub("static")
		items := static.List("keys")
		if !static.Has("keys") || isEmptyList(static.Raw("keys")) {
			static.Problemf("keys", "at least one key is required when auth.keyStore.provider is static")
		}
		for _, k := range items {
			key := StaticKey{
				PublicKeyFile:  existingFile(k, "publicKeyFile", workDir),
				PrivateKeyFile: existingFile(k, "privateKeyFile", workDir),
				KeyID:          k.RequiredString("keyId"),
				Algorithm:      stringOr(k, "algorithm", "ES256"),
			}
			cfg.Static = append(cfg.Static, key)
		}
	default:
		ks.Problemf("provider", "unknown key store provider %q (expected database, memory or static)", cfg.Provider)
	}
	return cfg
}

func isEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}

// existingFile reads a required file path, resolves it against workDir and checks
// that it exists.
func existingFile(r *Reader, key, workDir string) string {
	p := r.RequiredString(key)
	if p == "" {
		return ""
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(workDir, p)
	}
	if st, err := os.Stat(abs); err != nil {
		r.Problemf(key, "cannot read %q: %s", p, fileErr(err))
	} else if st.IsDir() {
		r.Problemf(key, "%q is a directory", p)
	}
	return abs
}

func readCatalog(cat, own *Reader, workDir string) CatalogConfig {
	cfg := CatalogConfig{
		Mode:           own.String("mode"),
		RemoteToken:    own.String("token"),
		RemoteCacheTTL: DefaultCatalogCacheTTL,
		RemoteTimeout:  DefaultCatalogTimeout,
		Rules:          readRules(cat, "rules"),
	}
	switch cfg.Mode {
	case "", "local", "remote", "none":
	default:
		own.Problemf("mode", "unknown catalog mode %q (expected local, remote or none)", cfg.Mode)
	}
	if d, ok := own.Duration("cacheTtl"); ok {
		cfg.RemoteCacheTTL = d
	}
	if d, ok := own.Duration("timeout"); ok {
		if d <= 0 {
			own.Problemf("timeout", "must be greater than zero")
		} else {
			cfg.RemoteTimeout = d
		}
	}
	for _, l := range cat.List("locations") {
		loc := CatalogLocation{
			Type:   l.RequiredString("type"),
			Target: l.RequiredString("target"),
			Rules:  readRules(l, "rules"),
		}
		if loc.Type == "file" && loc.Target != "" && !filepath.IsAbs(loc.Target) {
			loc.Target = filepath.Join(workDir, loc.Target)
		}
		cfg.Locations = append(cfg.Locations, loc)
	}
	return cfg
}

func readRules(r *Reader, key string) []CatalogRule {
	var rules []CatalogRule
	for _, rr := range r.List(key) {
		rule := CatalogRule{Allow: rr.StringList("allow")}
		if !rr.Has("allow") {
			rr.Problemf("allow", "missing required config value")
		}
		for _, l := range rr.List("locations") {
			rule.Locations = append(rule.Locations, CatalogRuleLocation{
				Type:    l.String("type"),
				Target:  l.String("target"),
				Pattern: l.String("pattern"),
			})
		}
		rules = append(rules, rule)
	}
	return rules
}

func readDiscovery(d *Reader) DiscoveryConfig {
	var cfg DiscoveryConfig
	for _, e := range d.List("endpoints") {
		ep := DiscoveryEndpoint{Plugins: e.StringList("plugins")}
		if len(ep.Plugins) == 0 {
			e.Problemf("plugins", "must list at least one plugin")
		}
		switch t := e.Raw("target").(type) {
		case nil:
			e.Problemf("target", "missing required config value")
		case string:
			ep.Internal, ep.External = t, t
			checkTarget(e, "target", t)
		default:
			tr := e.Sub("target")
			ep.Internal = tr.RequiredString("internal")
			ep.External = tr.RequiredString("external")
			checkTarget(tr, "internal", ep.Internal)
			checkTarget(tr, "external", ep.External)
		}
		cfg.Endpoints = append(cfg.Endpoints, ep)
	}
	return cfg
}

func checkTarget(r *Reader, key, target string) {
	if target != "" && !isHTTPURL(pluginIDPattern.ReplaceAllString(target, "plugin")) {
		r.Problemf(key, "must be an absolute http(s) URL, got %q", target)
	}
}

// ProviderSections returns the sections auth.providers.<id> with a valid id, read from
// the auth section (Load reports invalid ids).
func ProviderSections(auth Section) map[string]Section {
	providers := auth.Sub("providers")
	out := map[string]Section{}
	for _, id := range providers.Keys() {
		if IsValidKey(id) {
			out[id] = providers.Sub(id)
		}
	}
	return out
}

// Rate-limit defaults: express-rate-limit's (Backstage's) and ours.
const (
	DefaultRateLimitWindow      = time.Minute
	backstageDefaultRateLimit   = 5
	DefaultOwnRateLimit         = 300
	DefaultOwnUserInfoRateLimit = 600
)

var defaultRateLimitAllowList = []string{"127.0.0.1", "0:0:0:0:0:0:0:1", "::1"}

// readBackendRateLimit reads backend.rateLimit (true: the defaults; an object; global:
// false turns the all-routes limit off) and backend.rateLimit.plugin.auth.
func readBackendRateLimit(b *Reader) (global, plugin *RateLimitConfig) {
	switch v := b.Raw("rateLimit").(type) {
	case nil:
		return nil, nil
	case bool:
		if v {
			return &RateLimitConfig{Window: DefaultRateLimitWindow, Limit: backstageDefaultRateLimit, IPAllowList: defaultRateLimitAllowList}, nil
		}
		return nil, nil
	case map[string]any:
	default:
		b.Problemf("rateLimit", "must be true or an object, got %s", TypeName(v))
		return nil, nil
	}
	rl := b.Sub("rateLimit")
	if rl.Bool("global", true) {
		global = readRateLimit(rl, backstageDefaultRateLimit)
	}
	if p := rl.Sub("plugin"); p.Has("auth") {
		plugin = readRateLimit(p.Sub("auth"), backstageDefaultRateLimit)
	}
	return global, plugin
}

func readRateLimit(r *Reader, defLimit int) *RateLimitConfig {
	c := &RateLimitConfig{Window: DefaultRateLimitWindow, Limit: defLimit, IPAllowList: defaultRateLimitAllowList}
	if d, ok := r.Duration("window"); ok {
		if d <= 0 {
			r.Problemf("window", "must be greater than zero")
		} else {
			c.Window = d
		}
	}
	c.Limit = r.Int("incomingRequestLimit", defLimit)
	if c.Limit < 0 {
		r.Problemf("incomingRequestLimit", "must not be negative, got %d", c.Limit)
		c.Limit = defLimit
	}
	if r.Has("ipAllowList") {
		c.IPAllowList = r.StringList("ipAllowList")
	}
	c.SkipSuccessfulRequests = r.Bool("skipSuccessfulRequests", false)
	c.SkipFailedRequests = r.Bool("skipFailedRequests", false)
	return c
}

func readOwnRateLimit(r *Reader) OwnRateLimitConfig {
	c := OwnRateLimitConfig{Enabled: r.Bool("enabled", true), Window: DefaultRateLimitWindow,
		Limit: DefaultOwnRateLimit, UserInfoLimit: DefaultOwnUserInfoRateLimit, IPAllowList: defaultRateLimitAllowList}
	base := readRateLimit(r, DefaultOwnRateLimit)
	c.Window, c.Limit, c.IPAllowList = base.Window, base.Limit, base.IPAllowList
	c.UserInfoLimit = r.Int("userInfoRequestLimit", DefaultOwnUserInfoRateLimit)
	return c
}
