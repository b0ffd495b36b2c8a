package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
)

// TestSharedPostgresWithNodeAuthBackend is issue 4 item 5: our server and the stock
// @backstage/plugin-auth-backend share one PostgreSQL auth database. Ours starts
// first and migrates; the Node backend then starts and its knex migrations find
// nothing to do; guest tokens from each verify at the other's JWKS.
func TestSharedPostgresWithNodeAuthBackend(t *testing.T) {
	h := requireE2E(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	pg := newSharedPG(t, ctx)
	prefix, connection, db, dbName := pg.prefix, pg.connection, pg.db, pg.dbName
	database := m{"client": "pg", "prefix": prefix, "connection": connection}
	logDir := h.logDir(t)
	dir := t.TempDir()
	devEnv := []string{"NODE_ENV=development"}

	config := func(name string, port int) string {
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		return writeYAML(t, dir, name+".yaml", m{
			"app": m{"baseUrl": base},
			"backend": m{
				"baseUrl":  base,
				"listen":   m{"host": "127.0.0.1", "port": port},
				"database": database,
			},
			"auth": m{
				"environment": "development",
				"session":     m{"secret": "e2e-shared-" + randHex(t, 16)},
				"providers":   m{"guest": m{"userEntityRef": "user:development/guest"}},
			},
		})
	}

	// 1. Our server first: it creates the schema and records the knex migrations.
	ourPort := freePort(t)
	ours := fmt.Sprintf("http://127.0.0.1:%d", ourPort)
	ourProc := startProc(t, logDir, procSpec{
		name: "authbackend", path: h.binDir + "/authbackend", dir: dir, env: devEnv,
		args: []string{"--config", config("authbackend", ourPort)},
	})
	waitHTTP(t, ourProc, ours+readyPath, nil, 200, 30*time.Second)
	before := migrations(ctx, t, db)
	if len(before) == 0 {
		t.Fatalf("our server left no knex_migrations rows in %s", dbName)
	}
	ourToken := guestToken(t, ours)

	// 2. The stock Node auth backend on the same database.
	nodePort := freePort(t)
	node := fmt.Sprintf("http://127.0.0.1:%d", nodePort)
	nodeProc := startNodeBackend(t, h, logDir, "node-auth", "auth", config("node-auth", nodePort), devEnv)
	waitHTTP(t, nodeProc, node+readyPath, nil, 200, 90*time.Second)

	t.Run("node migrates cleanly after ours", func(t *testing.T) {
		after := migrations(ctx, t, db)
		if strings.Join(after, ",") != strings.Join(before, ",") {
			t.Errorf("knex_migrations changed when the Node backend started:\nbefore %v\nafter  %v", before, after)
		}
		var locked int
		if err := db.QueryRow(ctx, `SELECT COALESCE(MAX(is_locked), 0) FROM knex_migrations_lock`).Scan(&locked); err != nil {
			t.Errorf("knex_migrations_lock: %v", err)
		} else if locked != 0 {
			t.Errorf("knex_migrations_lock is_locked = %d after the Node backend started", locked)
		}
		if errs := nodeErrors(nodeProc.log()); len(errs) > 0 {
			t.Errorf("Node auth backend logged errors:\n%s", strings.Join(errs, "\n"))
		}
	})

	nodeToken := guestToken(t, node)

	// Node reads signing_keys on every JWKS request; our server caches the key list and
	// reloads it on its own replicas' NOTIFY and every keyPollInterval (2 s), so a key
	// written by Node may take that long to appear. Backstage verifiers re-fetch a JWKS
	// on an unknown kid, so a short lag is harmless; a key that never appears is not.
	const keyLag = 5 * time.Second

	t.Run("tokens verify at the other's JWKS", func(t *testing.T) {
		verifyAt(t, "our token at Node's JWKS", ourToken, node)
		eventually(t, keyLag, func() error { return verifyAtErr(nodeToken, ours) })
	})

	t.Run("user_info is shared", func(t *testing.T) {
		for _, c := range []struct{ what, token, at string }{
			{"our token at Node's userinfo", ourToken, node},
			{"Node's token at our userinfo", nodeToken, ours},
		} {
			eventually(t, keyLag, func() error {
				r := doHTTP(t, nil, http.MethodGet, c.at+"/api/auth/v1/userinfo", bearer(c.token), nil)
				if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"user:development/guest"`) {
					return fmt.Errorf("%s: %d %s", c.what, r.Status, truncate(r.Body, 300))
				}
				return nil
			})
		}
	})
}

// migrations lists knex_migrations names in order.
func migrations(ctx context.Context, t *testing.T, db *pgx.Conn) []string {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT name FROM knex_migrations ORDER BY id`)
	if err != nil {
		t.Fatalf("knex_migrations: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("knex_migrations: %v", err)
	}
	return names
}

// guestToken signs in with the guest provider (a proxy provider: GET refresh).
func guestToken(t *testing.T, base string) string {
	t.Helper()
	r := doHTTP(t, nil, http.MethodGet, base+"/api/auth/guest/refresh", http.Header{"X-Requested-With": {"XMLHttpRequest"}}, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("guest refresh at %s: %d %s", base, r.Status, truncate(r.Body, 300))
	}
	var body struct {
		BackstageIdentity struct {
			Token string `json:"token"`
		} `json:"backstageIdentity"`
	}
	r.json(t, &body)
	if body.BackstageIdentity.Token == "" {
		t.Fatalf("guest refresh at %s: no token: %s", base, truncate(r.Body, 300))
	}
	return body.BackstageIdentity.Token
}

// verifyAt verifies token with the user-token JWKS published by base, as Backstage's
// verifiers do: key by kid, ES256, typ vnd.backstage.user, sub present, exp in the future.
func verifyAt(t *testing.T, what, token, base string) {
	t.Helper()
	if err := verifyAtErr(token, base); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

func verifyAtErr(token, base string) error {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/api/auth/.well-known/jwks.json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("JWKS at %s: %s", base, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return fmt.Errorf("JWKS at %s: %w", base, err)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return err
	}
	hdr := jws.Signatures[0].Protected
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); typ != "vnd.backstage.user" {
		return fmt.Errorf("typ %q, want vnd.backstage.user", typ)
	}
	keys := set.Key(hdr.KeyID)
	if len(keys) == 0 {
		return fmt.Errorf("kid %q not in %s's JWKS (%d keys)", hdr.KeyID, base, len(set.Keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	var claims struct {
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if claims.Sub != "user:development/guest" || claims.Exp <= time.Now().Unix() {
		return fmt.Errorf("claims %+v", claims)
	}
	return nil
}

// eventually retries f until it succeeds or timeout passes, logging how long it took.
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			if d := time.Since(start); d > 0 && d > 100*time.Millisecond {
				t.Logf("succeeded after %s", d.Round(time.Millisecond))
			}
			return
		}
		if time.Since(start) > timeout {
			t.Errorf("still failing after %s: %v", timeout, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// nodeErrors returns the Node backend's error-level log lines (JSON in production,
// "<time> <plugin> error <message>" text with NODE_ENV=development).
func nodeErrors(log string) []string {
	var out []string
	for _, line := range strings.Split(ansiRE.ReplaceAllString(log, ""), "\n") {
		l := strings.ToLower(line)
		if strings.Contains(l, `"level":"error"`) || regexp.MustCompile(`^\S+\s+\S+\s+error\s`).MatchString(l) ||
			strings.Contains(l, "migration directory is corrupt") || strings.Contains(l, "unhandled") {
			out = append(out, line)
		}
	}
	return out
}

// sharedPG is a fresh PostgreSQL database per test, named like Backstage names it
// (<prefix>auth), dropped when the test ends (after its processes stopped).
type sharedPG struct {
	prefix, dbName string
	connection     m // backend.database.connection
	db             *pgx.Conn
}

func newSharedPG(t *testing.T, ctx context.Context) sharedPG {
	t.Helper()
	dsn := os.Getenv(envPGDSN)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is unset in CI", envPGDSN)
		}
		t.Skipf("shared-database test needs PostgreSQL: set %s", envPGDSN)
	}
	pgCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("%s: %v", envPGDSN, err)
	}
	// A fresh database per test, named like Backstage names it: <prefix>auth.
	prefix := "e2e_" + randHex(t, 6) + "_"
	dbName := prefix + "auth"
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", envPGDSN, err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize()); err != nil {
		t.Fatalf("create database: %v", err)
	}
	// Registered before the processes start, so it runs after they are stopped.
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", dbName, err)
		}
	})
	dbConnCfg := pgCfg.Copy()
	dbConnCfg.Database = dbName
	db, err := pgx.ConnectConfig(ctx, dbConnCfg)
	if err != nil {
		t.Fatalf("connect %s: %v", dbName, err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })

	connection := m{"host": pgCfg.Host, "port": int(pgCfg.Port), "user": pgCfg.User}
	if pgCfg.Password != "" {
		connection["password"] = pgCfg.Password
	}
	return sharedPG{prefix: prefix, dbName: dbName, connection: connection, db: db}
}
