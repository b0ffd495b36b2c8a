package authdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// syncBuffer is a log sink that the race detector accepts.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOpenUnreachablePostgres(t *testing.T) {
	var logs syncBuffer
	_, err := Open(t.Context(), Options{
		Client:          "pg",
		PGConnString:    "postgres://postgres:hunter2secret@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2",
		PGDatabase:      "backstage_plugin_auth",
		ConnectAttempts: 3,
		ConnectBackoff:  10 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1/backstage_plugin_auth", "after 3 attempts", "connect"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "hunter2secret") || strings.Contains(logs.String(), "hunter2secret") {
		t.Errorf("password leaked: %q / %q", msg, logs.String())
	}
	if n := strings.Count(logs.String(), "retrying"); n != 2 {
		t.Errorf("logged %d retries, want 2:\n%s", n, logs.String())
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"UnknownClient", Options{Client: "mysql2"}, `unsupported database client "mysql2"`},
		{"NoClient", Options{}, "unsupported database client"},
		{"SQLiteNoPath", Options{Client: "sqlite"}, "needs a file path"},
		{"SQLitePathWithQuery", Options{Client: "sqlite", SQLitePath: "a.db?mode=ro"}, "must not contain"},
		{"PGNoConnString", Options{Client: "pg"}, "needs a connection string"},
		{"PGBadConnString", Options{Client: "pg", PGConnString: "postgres://u:topsecretpw@host:notaport/db"}, "invalid PostgreSQL connection string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(t.Context(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "topsecretpw") {
				t.Fatalf("password leaked: %v", err)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	if got := openT(t, Options{Client: "sqlite", SQLitePath: ":memory:"}).Describe(); got != "sqlite :memory:" {
		t.Errorf("Describe = %q", got)
	}
	dsn, name := freshPGDatabase(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := openT(t, pgOptions(dsn, name, "auth"))
	want := "postgres " + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + name + " schema auth"
	if got := db.Describe(); got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if strings.Contains(db.Describe(), "@") || strings.Contains(db.Describe(), "password") {
		t.Errorf("Describe leaks credentials: %q", db.Describe())
	}
}

func TestPingAfterClose(t *testing.T) {
	db, err := Open(t.Context(), Options{Client: "sqlite", SQLitePath: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestStoresRejectBadInput(t *testing.T) {
	db := openT(t, Options{Client: "sqlite", SQLitePath: ":memory:"})
	ctx := t.Context()
	jwk := json.RawMessage(`{"kty":"EC"}`)
	exp := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"EmptyKID", db.SigningKeys().AddKey(ctx, signingkeys.StoredKey{JWK: jwk}), "empty kid"},
		{"JWKNotJSON", db.SigningKeys().AddKey(ctx, signingkeys.StoredKey{KID: "k", JWK: json.RawMessage(`{"kty":`)}), "not valid JSON"},
		{"PluginKeyWithoutExpiry", db.PluginKeys().AddKey(ctx, signingkeys.StoredKey{KID: "k", JWK: jwk}), "need ExpiresAt"},
		{"PluginEmptyKID", db.PluginKeys().AddKey(ctx, signingkeys.StoredKey{JWK: jwk, ExpiresAt: exp}), "empty kid"},
		{"UserInfoEmptyRef", db.UserInfo().UpsertUserInfo(ctx, "", json.RawMessage(`{}`), time.Time{}), "empty user entity ref"},
		{"UserInfoNotJSON", db.UserInfo().UpsertUserInfo(ctx, "user:default/a", json.RawMessage(`nope`), time.Time{}), "not valid JSON"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	if keys, err := db.SigningKeys().ListKeys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("rejected input was stored: %v %v", keys, err)
	}
}

// rawText reads one column as the text SQLite stores, bypassing the driver's time
// parsing.
func rawText(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	var s string
	if err := db.sql.QueryRowContext(t.Context(), query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

// What we write on SQLite is what Node writes (db-auth.txt), and what Node writes we read.
func TestSQLiteTimeFormatsMatchNode(t *testing.T) {
	now := time.Date(2026, 11, 27, 11, 6, 48, 900_000_000, time.UTC)
	db := openT(t, Options{Client: "sqlite", SQLitePath: ":memory:", Now: func() time.Time { return now }})
	ctx := t.Context()
	cet := time.FixedZone("CET", 3600)

	if err := db.SigningKeys().AddKey(ctx, signingkeys.StoredKey{KID: "go", JWK: json.RawMessage(`{}`), CreatedAt: time.Date(2026, 11, 27, 12, 6, 48, 839_000_000, cet)}); err != nil {
		t.Fatal(err)
	}
	if err := db.SigningKeys().AddKey(ctx, signingkeys.StoredKey{KID: "go-now", JWK: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.PluginKeys().AddKey(ctx, signingkeys.StoredKey{KID: "p", JWK: json.RawMessage(`{}`), ExpiresAt: time.Date(2026, 11, 27, 15, 6, 48, 839_000_000, cet)}); err != nil {
		t.Fatal(err)
	}
	if err := db.UserInfo().UpsertUserInfo(ctx, "user:default/alice", json.RawMessage(`{"claims":{}}`), time.Date(2026, 11, 27, 11, 6, 53, 521_400_000, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, want string }{
		{"SELECT CAST(created_at AS TEXT) FROM signing_keys WHERE kid = 'go'", "2026-11-27 11:06:48"},
		{"SELECT CAST(created_at AS TEXT) FROM signing_keys WHERE kid = 'go-now'", "2026-11-27 11:06:48"},
		{"SELECT expires_at FROM backstage_backend_public_keys__keys WHERE id = 'p'", "2026-11-27T14:06:48.839Z"},
		{"SELECT CAST(updated_at AS TEXT) FROM user_info", "2026-11-27 11:06:53.521"},
	} {
		if got := rawText(t, db, tc.query); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.query, got, tc.want)
		}
	}
	// created_at comes from the column default, CURRENT_TIMESTAMP, as for Node.
	if got := rawText(t, db, "SELECT CAST(created_at AS TEXT) FROM user_info"); len(got) != len("2006-01-02 15:04:05") {
		t.Errorf("user_info.created_at = %q, want CURRENT_TIMESTAMP's format", got)
	}

	// Rows as Node writes them (values from db-auth.txt, created_at by the default).
	mustExec(t, db, `INSERT INTO signing_keys (kid, created_at, key) VALUES ('node', '2026-11-27 11:06:48', '{"kty":"EC"}')`)
	mustExec(t, db, `INSERT INTO signing_keys (kid, key) VALUES ('node-default', '{"kty":"EC"}')`)
	mustExec(t, db, `INSERT INTO backstage_backend_public_keys__keys (id, key, expires_at) VALUES ('node-p', '{}', '2026-11-27T14:06:48.839Z')`)
	keys, err := db.SigningKeys().ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, k := range keys {
		got[k.KID] = k.CreatedAt
	}
	if want := time.Date(2026, 11, 27, 11, 6, 48, 0, time.UTC); !got["node"].Equal(want) || got["node"].Location() != time.UTC {
		t.Errorf("Node row created_at = %v, want %v UTC", got["node"], want)
	}
	if d := time.Since(got["node-default"]); d < -time.Minute || d > time.Minute {
		t.Errorf("CURRENT_TIMESTAMP row created_at = %v, want about now", got["node-default"])
	}
	pkeys, err := db.PluginKeys().ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pkeys {
		if k.KID == "node-p" && !k.ExpiresAt.Equal(time.Date(2026, 11, 27, 14, 6, 48, 839_000_000, time.UTC)) {
			t.Errorf("Node plugin key expires_at = %v", k.ExpiresAt)
		}
	}
}

// The merge leaves created_at alone and moves updated_at, on both databases.
func testUpsertKeepsCreatedAt(t *testing.T, db *DB) {
	ctx := t.Context()
	ref := "user:default/alice"
	t1 := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	if err := db.UserInfo().UpsertUserInfo(ctx, ref, json.RawMessage(`{"claims":{"v":1}}`), t1); err != nil {
		t.Fatal(err)
	}
	old := "2020-01-02 03:04:05+00"
	mustExec(t, db, "UPDATE user_info SET created_at = $1 WHERE user_entity_ref = $2", old, ref)
	t2 := t1.Add(time.Hour)
	if err := db.UserInfo().UpsertUserInfo(ctx, ref, json.RawMessage(`{"claims":{"v":2}}`), t2); err != nil {
		t.Fatal(err)
	}
	var created, updated any
	if err := db.sql.QueryRowContext(ctx, "SELECT created_at, updated_at FROM user_info WHERE user_entity_ref = $1", ref).Scan(&created, &updated); err != nil {
		t.Fatal(err)
	}
	c, err1 := parseStoredTime(created)
	u, err2 := parseStoredTime(updated)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if want, _ := parseTimeText(old); !c.Equal(want) {
		t.Errorf("created_at = %v after the second upsert, want %v", c, want)
	}
	if !u.Equal(t2) {
		t.Errorf("updated_at = %v, want %v", u, t2)
	}
	if n := count(t, db, "user_info"); n != 1 {
		t.Errorf("%d user_info rows, want 1", n)
	}
}

func TestUpsertKeepsCreatedAt(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testUpsertKeepsCreatedAt(t, openT(t, Options{Client: "sqlite", SQLitePath: ":memory:"}))
	})
	t.Run("Postgres", func(t *testing.T) { testUpsertKeepsCreatedAt(t, newPG(t, "")) })
}

// A row with a mangled time or JWK is skipped, not fatal for the whole key set.
func TestListSkipsUnreadableRows(t *testing.T) {
	var logs syncBuffer
	db := openT(t, Options{Client: "sqlite", SQLitePath: ":memory:", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	mustExec(t, db, `INSERT INTO signing_keys (kid, created_at, key) VALUES ('bad-time', 'yesterday', '{}')`)
	mustExec(t, db, `INSERT INTO signing_keys (kid, created_at, key) VALUES ('bad-json', '2026-11-27 11:06:48', '{"kty":')`)
	mustExec(t, db, `INSERT INTO signing_keys (kid, created_at, key) VALUES ('good', '2026-11-27 11:06:48', '{}')`)
	keys, err := db.SigningKeys().ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KID != "good" {
		t.Fatalf("ListKeys = %+v, want only the good row", keys)
	}
	for _, kid := range []string{"bad-time", "bad-json"} {
		if !strings.Contains(logs.String(), kid) {
			t.Errorf("no warning about %s in %q", kid, logs.String())
		}
	}
}

func TestDuplicateErrorWraps(t *testing.T) {
	db := openT(t, Options{Client: "sqlite", SQLitePath: ":memory:"})
	k := signingkeys.StoredKey{KID: "x", JWK: json.RawMessage(`{}`)}
	if err := db.SigningKeys().AddKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	err := db.SigningKeys().AddKey(t.Context(), k)
	if !errors.Is(err, signingkeys.ErrKeyExists) || !strings.Contains(err.Error(), "signing_keys x") {
		t.Fatalf("duplicate AddKey = %v", err)
	}
}

func TestParseStoredTime(t *testing.T) {
	want := time.Date(2026, 11, 27, 11, 6, 48, 839_000_000, time.UTC)
	for _, tc := range []struct {
		in   any
		want time.Time
	}{
		{"2026-11-27 11:06:48.839", want},
		{"2026-11-27T11:06:48.839Z", want},
		{"2026-11-27 12:06:48.839+01:00", want},
		{"2026-11-27 12:06:48.839+01", want},
		{[]byte("2026-11-27 11:06:48"), want.Truncate(time.Second)},
		{want.UnixMilli(), want},
		{want.In(time.FixedZone("X", -7200)), want},
	} {
		got, err := parseStoredTime(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("parseStoredTime(%v) = %v, %v; want %v UTC", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []any{nil, "yesterday", 1.5i, true} {
		if _, err := parseStoredTime(bad); err == nil {
			t.Errorf("parseStoredTime(%v) succeeded", bad)
		}
	}
}
