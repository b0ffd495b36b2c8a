package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal})
	c := mustLoad(t, dir, env{}, nil)
	if c.Backend.Listen != (ListenConfig{Port: 7007}) {
		t.Errorf("listen = %+v", c.Backend.Listen)
	}
	wantDB := DatabaseConfig{
		Client:             "better-sqlite3",
		Connection:         DatabaseConnection{Directory: filepath.Join(dir, "data")},
		Prefix:             "backstage_plugin_",
		PluginDivisionMode: "database",
		EnsureExists:       true,
	}
	if !reflect.DeepEqual(c.Backend.Database, wantDB) {
		t.Errorf("database = %+v, want %+v", c.Backend.Database, wantDB)
	}
	a := c.Auth
	if a.BackstageTokenExpiration != time.Hour || a.IdentityTokenAlgorithm != "ES256" || !a.OmitIdentityTokenOwnershipClaim || a.KeyStore.Provider != "database" || len(a.Providers) != 0 || a.Providers == nil {
		t.Errorf("auth defaults = %+v", a)
	}
	if c.Backend.CORS != nil || c.Backend.CSP != nil || c.Backend.Referrer != "no-referrer" || c.Backend.HTTPS || c.Backend.TrustProxy {
		t.Errorf("backend defaults = %+v", c.Backend)
	}
	if c.Catalog.RemoteCacheTTL != 10*time.Second || c.Catalog.RemoteTimeout != 5*time.Second || c.Catalog.Mode != "" {
		t.Errorf("catalog defaults = %+v", c.Catalog)
	}
	if c.Demo != (DemoConfig{Provider: "spectrocloud", Env: "development"}) {
		t.Errorf("demo defaults = %+v", c.Demo)
	}
	if c.DevelopmentMode {
		t.Error("DevelopmentMode without NODE_ENV")
	}
	if c.AppOrigin() != "http://app.test" {
		t.Errorf("AppOrigin = %q", c.AppOrigin())
	}
	if len(c.Warnings) != 0 {
		t.Errorf("Warnings = %v", c.Warnings)
	}
	c = mustLoad(t, dir, env{"NODE_ENV": "development"}, nil)
	if !c.DevelopmentMode {
		t.Error("NODE_ENV=development not seen")
	}
}

func TestListen(t *testing.T) {
	tests := []struct {
		yaml    string
		want    ListenConfig
		problem string
	}{
		{"listen: ':8080'", ListenConfig{Port: 8080}, ""},
		{"listen: '8080'", ListenConfig{Port: 8080}, ""},
		{"listen: 127.0.0.1:9000", ListenConfig{Host: "127.0.0.1", Port: 9000}, ""},
		{"listen: {host: 0.0.0.0}", ListenConfig{Host: "0.0.0.0", Port: 7007}, ""},
		{"listen: {port: '7100'}", ListenConfig{Port: 7100}, ""},
		{"listen: {port: 0}", ListenConfig{Port: 0}, ""},
		{"listen: 'localhost:http'", ListenConfig{Port: 7007}, `backend.listen: unable to parse listen address "localhost:http"`},
		{"listen: 'a:b:c'", ListenConfig{Port: 7007}, "unable to parse listen address"},
		{"listen: {port: 70000}", ListenConfig{Port: 7007}, "backend.listen.port: must be between 0 and 65535"},
		{"listen: [1]", ListenConfig{Port: 7007}, "backend.listen: must be an object, got a list"},
	}
	for _, tt := range tests {
		dir := writeTree(t, map[string]string{"app-config.yaml": minimal + "  " + tt.yaml + "\n"})
		c, err := loadDir(dir, env{}, nil)
		if tt.problem != "" {
			if !hasProblem(err, tt.problem) {
				t.Errorf("%s: want problem %q, got %v", tt.yaml, tt.problem, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", tt.yaml, err)
		}
		if tt.problem == "" && c.Backend.Listen != tt.want {
			t.Errorf("%s: listen = %+v, want %+v", tt.yaml, c.Backend.Listen, tt.want)
		}
	}
}

func TestDatabase(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(t *testing.T, dir string, db DatabaseConfig)
		problem string
	}{
		{"sqlite memory string", "client: better-sqlite3\n    connection: ':memory:'", func(t *testing.T, _ string, db DatabaseConfig) {
			if db.Connection.Filename != ":memory:" {
				t.Errorf("%+v", db.Connection)
			}
		}, ""},
		{"sqlite without connection is memory", "client: sqlite3", func(t *testing.T, _ string, db DatabaseConfig) {
			if db.Client != "sqlite3" || db.Connection.Filename != ":memory:" {
				t.Errorf("%+v", db)
			}
		}, ""},
		{"sqlite directory", "client: better-sqlite3\n    connection: {directory: ./db}", func(t *testing.T, dir string, db DatabaseConfig) {
			if db.Connection.Directory != filepath.Join(dir, "db") {
				t.Errorf("%+v", db.Connection)
			}
		}, ""},
		{"sqlite filename string", "client: better-sqlite3\n    connection: auth.db", func(t *testing.T, dir string, db DatabaseConfig) {
			if db.Connection.Filename != filepath.Join(dir, "auth.db") {
				t.Errorf("%+v", db.Connection)
			}
		}, ""},
		{"pg string", "client: pg\n    connection: postgres://u@h/db", func(t *testing.T, _ string, db DatabaseConfig) {
			if db.Connection.ConnectionString != "postgres://u@h/db" {
				t.Errorf("%+v", db.Connection)
			}
		}, ""},
		{"pg object with plugin override", `client: pg
    prefix: bs_
    ensureExists: false
    connection: {host: db.base, port: 5432, user: base, password: pw, ssl: {rejectUnauthorized: false}}
    plugin:
      auth:
        connection: {host: db.auth, database: authdb}
        skipMigrations: true`, func(t *testing.T, _ string, db DatabaseConfig) {
			want := DatabaseConnection{Host: "db.auth", Port: 5432, User: "base", Password: "pw", Database: "authdb", SSLMode: "require"}
			if db.Connection != want || db.Prefix != "bs_" || db.EnsureExists || !db.SkipMigrations {
				t.Errorf("%+v", db)
			}
		}, ""},
		{"plugin client differs: base connection not inherited", `client: pg
    connection: {host: db.base}
    plugin:
      auth:
        client: better-sqlite3`, func(t *testing.T, _ string, db DatabaseConfig) {
			if db.Client != "better-sqlite3" || db.Connection != (DatabaseConnection{Filename: ":memory:"}) {
				t.Errorf("%+v", db)
			}
		}, ""},
		{"ssl true", "client: pg\n    connection: {host: h, ssl: true}", func(t *testing.T, _ string, db DatabaseConfig) {
			if db.Connection.SSLMode != "verify-full" {
				t.Errorf("%+v", db.Connection)
			}
		}, ""},
		{"pg needs connection", "client: pg", nil, "backend.database.connection: missing required config value"},
		{"mysql unsupported", "client: mysql2\n    connection: x", nil, "backend.database.client: mysql2 is not supported by this server"},
		{"unknown client", "client: oracle", nil, `unknown database client "oracle"`},
		{"missing client", "connection: x", nil, "backend.database.client: missing required config value"},
		{"schema mode needs pg", "client: better-sqlite3\n    pluginDivisionMode: schema", nil, "schema mode needs the pg client"},
		{"both directory and filename", "client: better-sqlite3\n    connection: {directory: a, filename: b}", nil, "set either directory or filename"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"app-config.yaml": minimal + "  database:\n    " + tt.yaml + "\n"})
			c, err := loadDir(dir, env{}, nil)
			if tt.problem != "" {
				if !hasProblem(err, tt.problem) {
					t.Fatalf("want problem %q, got %v", tt.problem, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, dir, c.Backend.Database)
		})
	}
}

func TestKeyStore(t *testing.T) {
	dir := writeTree(t, map[string]string{"keys/pub.pem": "pub", "keys/priv.pem": "priv"})
	tests := []struct {
		yaml    string
		want    KeyStoreConfig
		problem string
	}{
		{"provider: memory", KeyStoreConfig{Provider: "memory"}, ""},
		{"provider: static\n    static:\n      keys:\n        - {publicKeyFile: keys/pub.pem, privateKeyFile: keys/priv.pem, keyId: k1}",
			KeyStoreConfig{Provider: "static", Static: []StaticKey{{PublicKeyFile: filepath.Join(dir, "keys/pub.pem"), PrivateKeyFile: filepath.Join(dir, "keys/priv.pem"), KeyID: "k1", Algorithm: "ES256"}}}, ""},
		{"provider: static", KeyStoreConfig{}, "auth.keyStore.static.keys: at least one key is required"},
		{"provider: static\n    static: {keys: []}", KeyStoreConfig{}, "auth.keyStore.static.keys: at least one key is required"},
		{"provider: static\n    static:\n      keys:\n        - {publicKeyFile: keys/nope.pem, privateKeyFile: keys/priv.pem}", KeyStoreConfig{},
			`auth.keyStore.static.keys[0].publicKeyFile: cannot read "keys/nope.pem": file does not exist (app-config.yaml)`},
		{"provider: static\n    static:\n      keys:\n        - {publicKeyFile: keys/pub.pem, privateKeyFile: keys/priv.pem}", KeyStoreConfig{},
			"auth.keyStore.static.keys[0].keyId: missing required config value"},
		{"provider: vault", KeyStoreConfig{}, `auth.keyStore.provider: unknown key store provider "vault" (expected database, memory or static) (app-config.yaml)`},
		{"provider: firestore", KeyStoreConfig{}, "auth.keyStore.provider: firestore is not supported by this server; use database, memory or static (app-config.yaml)"},
	}
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(dir, "app-config.yaml"), []byte(minimal+"auth:\n  keyStore:\n    "+tt.yaml+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := loadDir(dir, env{}, nil)
		if tt.problem != "" {
			if !hasProblem(err, tt.problem) {
				t.Errorf("%q: want problem %q, got %v", tt.yaml, tt.problem, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		if !reflect.DeepEqual(c.Auth.KeyStore, tt.want) {
			t.Errorf("%q: keyStore = %+v, want %+v", tt.yaml, c.Auth.KeyStore, tt.want)
		}
	}
}

func TestBackendHTTPOptions(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal + `
  trustProxy: true
  referrer: {policy: [origin, strict-origin]}
  cors:
    origin: http://app.test
    methods: [GET, POST]
    allowedHeaders: X-Custom
    credentials: true
    maxAge: 600
  csp:
    connect-src: ["'self'", 'http:']
    upgrade-insecure-requests: false
  auth:
    externalAccess:
      - type: static
        options: {token: abcdefgh12, subject: ci}
      - type: legacy
        options: {secret: c2VjcmV0, subject: old}
      - type: jwks
        options: {url: http://x}
`})
	c := mustLoad(t, dir, env{}, nil)
	b := c.Backend
	age := 600
	wantCORS := &CORSConfig{Origins: []string{"http://app.test"}, Methods: []string{"GET", "POST"}, AllowedHeaders: []string{"X-Custom"}, Credentials: true, MaxAge: &age, OptionsSuccessStatus: 204}
	if !reflect.DeepEqual(b.CORS, wantCORS) {
		t.Errorf("cors = %+v, want %+v", b.CORS, wantCORS)
	}
	wantCSP := map[string][]string{"connect-src": {"'self'", "http:"}, "upgrade-insecure-requests": nil}
	if !reflect.DeepEqual(b.CSP, wantCSP) {
		t.Errorf("csp = %#v", b.CSP)
	}
	if b.Referrer != "origin,strict-origin" || !b.TrustProxy {
		t.Errorf("referrer %q trustProxy %v", b.Referrer, b.TrustProxy)
	}
	wantEA := []ExternalAccess{{Type: "static", Token: "abcdefgh12", Subject: "ci"}, {Type: "legacy", Secret: "c2VjcmV0", Subject: "old"}, {Type: "jwks"}}
	if !reflect.DeepEqual(b.Auth.ExternalAccess, wantEA) {
		t.Errorf("externalAccess = %+v", b.Auth.ExternalAccess)
	}

	dir = writeTree(t, map[string]string{"app-config.yaml": minimal + "  cors: {}\n"})
	c = mustLoad(t, dir, env{}, nil)
	// No origin: nil (the cors default literal "*"), never a match-all pattern.
	if !reflect.DeepEqual(c.Backend.CORS, &CORSConfig{Methods: []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"}, OptionsSuccessStatus: 204}) {
		t.Errorf("cors defaults = %+v", c.Backend.CORS)
	}
}

func TestBackendHTTPProblems(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal + `
  trustProxy: 2
  referrer: no-way
  cors: {optionsSuccessStatus: 500, credentials: maybe}
  csp: {script-src: true, img-src: 'self'}
  auth:
    externalAccess:
      - type: static
        options: {token: short, subject: two words}
      - type: legacy
        options: {secret: '***'}
`})
	_, err := loadDir(dir, env{}, nil)
	for _, w := range []string{
		"backend.trustProxy: only true or false is supported by this server, got a number (app-config.yaml)",
		`backend.referrer: unknown referrer policy "no-way"`,
		"backend.cors.optionsSuccessStatus: must be a 2xx status, got 500",
		`backend.cors.credentials: must be a boolean, got "maybe"`,
		"backend.csp.script-src: must be a list of strings or false",
		"backend.csp.img-src: must be a list of strings or false, got a string",
		"backend.auth.externalAccess[0].options.token: illegal token",
		"backend.auth.externalAccess[0].options.subject: illegal subject",
		"backend.auth.externalAccess[1].options.secret: must be base64",
		"backend.auth.externalAccess[1].options.subject: missing required config value",
	} {
		if !hasProblem(err, w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

func TestAuthProvidersAndGuest(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal + `
auth:
  session: {secret: s3-0123456789abcdef0123456789abcdef}
  omitIdentityTokenOwnershipClaim: false
  experimentalExtraAllowedOrigins: ['https://*.example.com']
  providers:
    guest:
      ownershipEntityRefs: [group:default/devs]
      dangerouslyAllowOutsideDevelopment: true
    oidc:
      development: {clientId: a}
    spectrocloud:
      production: {clientId: b}
`})
	c := mustLoad(t, dir, env{}, nil)
	a := c.Auth
	if a.SessionSecret != "s3-0123456789abcdef0123456789abcdef" || a.OmitIdentityTokenOwnershipClaim || !reflect.DeepEqual(a.ExtraAllowedOrigins, []string{"https://*.example.com"}) {
		t.Errorf("auth = %+v", a)
	}
	if g := a.Providers["guest"]; g.Path() != "auth.providers.guest" || g.Raw("dangerouslyAllowOutsideDevelopment") != true {
		t.Errorf("guest = %+v", g)
	}
	if len(a.Providers) != 3 || a.Providers["oidc"].Sub("development").Raw("clientId") != "a" || a.Providers["oidc"].Path() != "auth.providers.oidc" {
		t.Errorf("providers = %v", a.Providers)
	}
	// A provider module decodes its section on its own and gets problems with path and file.
	var sc struct {
		ClientSecret string `config:"clientSecret,required"`
	}
	ps := Decode(a.Providers["spectrocloud"].Sub("production"), &sc, DecodeOptions{Unknown: UnknownKeysIgnore})
	want := "auth.providers.spectrocloud.production.clientSecret: missing required config value (app-config.yaml)"
	if !hasProblem(ps, want) {
		t.Errorf("problems = %v, want %q", ps, want)
	}
}

func TestCatalogAndDemo(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal + `
catalog:
  rules:
    - allow: [User, Group]
  locations:
    - type: file
      target: ./org.yaml
      rules:
        - allow: [Component]
          locations: [{type: file, pattern: '*.yaml'}]
    - type: url
      target: https://example.com/org.yaml
authbackend:
  catalog: {mode: remote, token: tok, cacheTtl: 1m, timeout: {seconds: 2}}
  demoPage: {enabled: true, provider: oidc, env: production}
`})
	c := mustLoad(t, dir, env{}, nil)
	want := CatalogConfig{
		Mode: "remote", RemoteToken: "tok", RemoteCacheTTL: time.Minute, RemoteTimeout: 2 * time.Second,
		Rules: []CatalogRule{{Allow: []string{"User", "Group"}}},
		Locations: []CatalogLocation{
			{Type: "file", Target: filepath.Join(dir, "org.yaml"), Rules: []CatalogRule{{Allow: []string{"Component"}, Locations: []CatalogRuleLocation{{Type: "file", Pattern: "*.yaml"}}}}},
			{Type: "url", Target: "https://example.com/org.yaml"},
		},
	}
	if !reflect.DeepEqual(c.Catalog, want) {
		t.Errorf("catalog = %+v\nwant %+v", c.Catalog, want)
	}
	if c.Demo != (DemoConfig{Enabled: true, Provider: "oidc", Env: "production"}) {
		t.Errorf("demo = %+v", c.Demo)
	}

	dir = writeTree(t, map[string]string{"app-config.yaml": minimal + "catalog:\n  rules: [{}]\nauthbackend:\n  catalog: {mode: cloud, cacheTtl: 10}\n"})
	_, err := loadDir(dir, env{}, nil)
	for _, w := range []string{
		`authbackend.catalog.mode: unknown catalog mode "cloud" (expected local, remote or none)`,
		"authbackend.catalog.cacheTtl: invalid duration: got a number",
		"catalog.rules[0].allow: missing required config value",
	} {
		if !hasProblem(err, w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

func TestURLsRequired(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": "app:\n  baseUrl: /relative\nbackend:\n  baseUrl: ftp://x\n"})
	_, err := loadDir(dir, env{}, nil)
	for _, w := range []string{
		`app.baseUrl: must be an absolute http(s) URL, got "/relative" (app-config.yaml)`,
		`backend.baseUrl: must be an absolute http(s) URL, got "ftp://x" (app-config.yaml)`,
	} {
		if !hasProblem(err, w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}
