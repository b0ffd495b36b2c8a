package scale

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spectrocloud-labs/backstage-auth-go/authdb"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// pgDatabase opens the auth database in a PostgreSQL database of the test's own,
// created here and dropped when the test ends (the server itself is never touched).
func pgDatabase(t *testing.T) (*authdb.DB, *pgx.Conn) {
	t.Helper()
	dsn := os.Getenv("AUTHBACKEND_TEST_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("AUTHBACKEND_TEST_PG_DSN is required in CI")
		}
		t.Skip("set AUTHBACKEND_TEST_PG_DSN to run the PostgreSQL curves")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "scale_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("cleanup: drop %s: %v", name, err)
		}
	})
	db, err := authdb.Open(context.Background(), authdb.Options{Client: "pg", PGConnString: dsn, PGDatabase: name, EnsureExists: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = name
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return db, conn
}

// countingUserInfo counts the user_info reads and writes that reach the database.
type countingUserInfo struct {
	tokens.UserInfoStore
	reads, writes atomic.Int64
}

func (c *countingUserInfo) UpsertUserInfo(ctx context.Context, ref string, info json.RawMessage, at time.Time) error {
	c.writes.Add(1)
	return c.UserInfoStore.UpsertUserInfo(ctx, ref, info, at)
}

func (c *countingUserInfo) GetUserInfo(ctx context.Context, ref string) (json.RawMessage, error) {
	c.reads.Add(1)
	return c.UserInfoStore.GetUserInfo(ctx, ref)
}
