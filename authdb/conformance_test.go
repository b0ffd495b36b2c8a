package authdb

import (
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys/keystoretest"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens/userinfotest"
)

// runSuites runs the conformance suites on all three stores of one database; each
// subtest starts from empty tables.
func runSuites(t *testing.T, db *DB) {
	for _, tc := range []struct {
		name  string
		table string
		store func() signingkeys.KeyStore
	}{
		{"SigningKeys", tableSigningKeys, db.SigningKeys},
		{"PluginKeys", tablePluginKeys, db.PluginKeys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newStore := func(t *testing.T) signingkeys.KeyStore {
				mustExec(t, db, "DELETE FROM "+tc.table)
				return tc.store()
			}
			keystoretest.Run(t, newStore)
			keystoretest.RunConcurrency(t, newStore)
			t.Run("TimesComeBackUTC", func(t *testing.T) {
				s := newStore(t)
				at := time.Date(2026, 11, 27, 12, 6, 48, 0, time.FixedZone("CET", 3600))
				if err := s.AddKey(t.Context(), signingkeys.StoredKey{KID: "k", JWK: []byte(`{}`), CreatedAt: at, ExpiresAt: at}); err != nil {
					t.Fatal(err)
				}
				keys, err := s.ListKeys(t.Context())
				if err != nil || len(keys) != 1 {
					t.Fatalf("ListKeys = %v, %v", keys, err)
				}
				got := keys[0].CreatedAt
				if tc.table == tablePluginKeys {
					got = keys[0].ExpiresAt
				}
				if got.Location() != time.UTC || !got.Equal(at) {
					t.Fatalf("stored time came back as %v, want %v in UTC", got, at.UTC())
				}
			})
		})
	}
	t.Run("UserInfo", func(t *testing.T) {
		userinfotest.Run(t, func(t *testing.T) tokens.UserInfoStore {
			mustExec(t, db, "DELETE FROM user_info")
			return db.UserInfo()
		})
	})
}

func TestConformanceSQLiteFile(t *testing.T) {
	runSuites(t, openT(t, sqliteFileOptions(t)))
}

func TestConformanceSQLiteMemory(t *testing.T) {
	runSuites(t, openT(t, Options{Client: "sqlite", SQLitePath: ":memory:"}))
}

func TestConformancePostgres(t *testing.T) {
	for _, mode := range pgModes {
		t.Run(mode.name, func(t *testing.T) {
			runSuites(t, newPG(t, mode.schema))
		})
	}
}

// The notifier is a PostgreSQL feature: on SQLite the assertion must fail so that
// callers fall back to polling.
func TestChangeNotifierOnlyOnPostgres(t *testing.T) {
	db := openT(t, Options{Client: "sqlite", SQLitePath: ":memory:"})
	for name, s := range map[string]signingkeys.KeyStore{"signing": db.SigningKeys(), "plugin": db.PluginKeys()} {
		if _, ok := s.(signingkeys.ChangeNotifier); ok {
			t.Errorf("sqlite %s store implements ChangeNotifier", name)
		}
	}
	pg := newPG(t, "")
	for name, s := range map[string]signingkeys.KeyStore{"signing": pg.SigningKeys(), "plugin": pg.PluginKeys()} {
		if _, ok := s.(signingkeys.ChangeNotifier); !ok {
			t.Errorf("postgres %s store does not implement ChangeNotifier", name)
		}
	}
}
