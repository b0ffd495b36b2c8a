package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgPrefix returns a fresh database prefix on the test PostgreSQL server; the server
// under test creates <prefix>auth itself and the test drops it afterwards.
func pgPrefix(t *testing.T) (dsn, prefix string) {
	t.Helper()
	dsn = os.Getenv("AUTHBACKEND_TEST_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("AUTHBACKEND_TEST_PG_DSN is required in CI")
		}
		t.Skip("set AUTHBACKEND_TEST_PG_DSN to run the PostgreSQL tests")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix = "it_" + hex.EncodeToString(b) + "_"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+prefix+"auth WITH (FORCE)"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return dsn, prefix
}

func pgDatabaseYAML(t *testing.T, dsn, prefix string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	pw, _ := u.User.Password()
	return fmt.Sprintf("client: pg\n    prefix: %s\n    connection:\n      host: %s\n      port: %s\n      user: %s\n      password: %q",
		prefix, u.Hostname(), port, u.User.Username(), pw)
}

// Two replicas on one PostgreSQL database, started at the same moment: a token minted
// by either verifies at the other's JWKS the moment it is issued.
func TestReplicasShareKeys(t *testing.T) {
	dsn, prefix := pgPrefix(t)
	db := pgDatabaseYAML(t, dsn, prefix)
	var a, b *server
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = startServer(t, serverConfig{Database: db}) }()
	go func() { defer wg.Done(); b = startServer(t, serverConfig{Database: db}) }()
	wg.Wait()
	if a == nil || b == nil {
		t.Fatal("a replica did not start")
	}
	for i, pair := range [][2]*server{{a, b}, {b, a}, {a, b}} {
		issuer, verifier := pair[0], pair[1]
		br := newBrowser(t, issuer.AppURL)
		resp, body := br.get(issuer.auth("/guest/refresh"))
		if resp.StatusCode != 200 {
			t.Fatalf("guest refresh: %d %s", resp.StatusCode, body)
		}
		token, _ := dig(jsonBody(t, body), "backstageIdentity", "token").(string)
		// Verify immediately, no retry: the other replica must already list the key.
		typ, c := verifyToken(t, token, fetchJWKS(t, verifier.auth("/.well-known/jwks.json")))
		if typ != "vnd.backstage.user" || c.Sub != "user:development/guest" {
			t.Fatalf("round %d: typ %q claims %+v", i, typ, c)
		}
		// userinfo at the other replica reads the shared user_info table.
		resp, body = br.get(verifier.auth("/v1/userinfo"), "Authorization", "Bearer "+token)
		if resp.StatusCode != 200 {
			t.Fatalf("round %d: userinfo at the other replica: %d %s", i, resp.StatusCode, body)
		}
	}
}
