package authdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgDSN returns the test server's DSN, skipping (or, under CI, failing) without one.
func pgDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("AUTHBACKEND_TEST_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("AUTHBACKEND_TEST_PG_DSN is not set but CI is: PostgreSQL tests must run in CI")
		}
		t.Skip("AUTHBACKEND_TEST_PG_DSN not set; skipping PostgreSQL test")
	}
	return dsn
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// freshPGDatabase names a database that does not exist yet and drops it (with
// whatever connections remain) when the test ends.
func freshPGDatabase(t *testing.T) (dsn, name string) {
	t.Helper()
	dsn = pgDSN(t)
	name = randomName("authtest_")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("cleanup: connect: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("cleanup: drop database %s: %v", name, err)
		}
	})
	return dsn, name
}

// pgMode is one of Backstage's two pluginDivisionModes.
type pgMode struct {
	name   string
	schema string
}

var pgModes = []pgMode{{"DatabaseMode", ""}, {"SchemaMode", "auth"}}

func pgOptions(dsn, database, schema string) Options {
	return Options{
		Client: "pg", PGConnString: dsn, PGDatabase: database, PGSchema: schema,
		EnsureExists: true, ConnectAttempts: 3, ConnectBackoff: 50 * time.Millisecond,
	}
}

func openT(t *testing.T, opts Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newPG opens a fresh database in the given mode.
func newPG(t *testing.T, schema string) *DB {
	t.Helper()
	dsn, name := freshPGDatabase(t)
	return openT(t, pgOptions(dsn, name, schema))
}

func sqliteFileOptions(t *testing.T) Options {
	return Options{Client: "sqlite", SQLitePath: filepath.Join(t.TempDir(), "data", "auth.sqlite")}
}

func mustExec(t *testing.T, db *DB, query string, args ...any) {
	t.Helper()
	if _, err := db.sql.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func count(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRowContext(t.Context(), "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// pgDSNOrEmpty is the test server's DSN without skipping.
func pgDSNOrEmpty() string { return os.Getenv("AUTHBACKEND_TEST_PG_DSN") }
