package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/localcatalog"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/remotecatalog"
)

func loadConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "app-config.yaml")
	base := "app: {baseUrl: 'http://127.0.0.1:3000'}\nbackend:\n  baseUrl: http://127.0.0.1:7007\n"
	if err := os.WriteFile(path, []byte(base+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "org.yaml"), []byte("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: a}\nspec: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{ConfigPaths: []string{path}, WorkDir: dir, LookupEnv: func(string) (string, bool) { return "", false }, Environ: []string{}})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func TestDatabaseOptions(t *testing.T) {
	for _, tc := range []struct {
		name, yaml                     string
		client, sqlite, db, schema, in string
	}{
		{name: "default is SQLite under ./data", client: "better-sqlite3", sqlite: filepath.Join("data", "auth.sqlite")},
		{name: "sqlite directory", yaml: "  database: {client: better-sqlite3, connection: {directory: /var/lib/bs}}\n",
			client: "better-sqlite3", sqlite: "/var/lib/bs/auth.sqlite"},
		{name: "sqlite in memory", yaml: "  database: {client: sqlite3, connection: ':memory:'}\n", sqlite: ":memory:"},
		{name: "pg per-plugin database", yaml: "  database: {client: pg, connection: {host: db, port: 5433, user: bs, password: 's3cr/t'}}\n",
			client: "pg", db: "backstage_plugin_auth", in: "postgres://bs:s3cr%2Ft@db:5433/postgres"},
		{name: "pg prefix", yaml: "  database: {client: pg, prefix: x_, connection: 'postgres://u@h/d'}\n",
			client: "pg", db: "x_auth", in: "postgres://u@h/d"},
		{name: "pg schema mode", yaml: "  database: {client: pg, pluginDivisionMode: schema, connection: {host: h, user: u, database: bs}}\n",
			client: "pg", db: "bs", schema: "auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := databaseOptions(loadConfig(t, tc.yaml), slog.New(slog.DiscardHandler))
			if tc.client != "" && o.Client != tc.client {
				t.Errorf("client = %q", o.Client)
			}
			if tc.sqlite != "" && !strings.HasSuffix(o.SQLitePath, tc.sqlite) {
				t.Errorf("sqlite path = %q, want …%s", o.SQLitePath, tc.sqlite)
			}
			if o.PGDatabase != tc.db || o.PGSchema != tc.schema {
				t.Errorf("pg database/schema = %q/%q", o.PGDatabase, o.PGSchema)
			}
			if tc.in != "" && !strings.HasPrefix(o.PGConnString, tc.in) {
				t.Errorf("conn string = %q, want prefix %q", o.PGConnString, tc.in)
			}
		})
	}
}

func TestCatalogSelection(t *testing.T) {
	files := "catalog:\n  rules: [{allow: [User]}]\n  locations: [{type: file, target: ./org.yaml}]\n"
	discovery := "discovery:\n  endpoints: [{target: 'http://catalog:7007/api/{{pluginId}}', plugins: [catalog]}]\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"nothing configured", "", "none"},
		{"file locations", files, "local"},
		{"discovery entry wins", files + discovery, "remote"},
		{"explicit local", files + discovery + "authbackend: {catalog: {mode: local}}\n", "local"},
		{"explicit none", files + "authbackend: {catalog: {mode: none}}\n", "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadConfig(t, tc.yaml)
			cat, _, _ := buildCatalog(cfg, &lateTokenSource{}, slog.New(slog.DiscardHandler), nil)
			got := "none"
			switch c := cat.(type) {
			case *localcatalog.Catalog:
				got = "local"
			case *remotecatalog.Catalog:
				got = "remote"
				if c.BaseURL() != "http://catalog:7007/api/catalog" {
					t.Errorf("remote base URL = %q", c.BaseURL())
				}
			}
			if got != tc.want {
				t.Errorf("catalog = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // as main does
	os.Exit(m.Run())
}
