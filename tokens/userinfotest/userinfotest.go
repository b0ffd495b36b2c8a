package userinfotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// Run is the user-info store conformance suite: not found, upsert then get (byte for
// byte), and upsert again replacing the row. newStore must return an empty store; it
// is called once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) tokens.UserInfoStore) {
	t.Helper()
	alice := "user:default/alice"
	// Odd but valid JSON: key order, escapes and non-ASCII must survive byte for byte.
	info1 := json.RawMessage(`{"claims":{"sub":"user:default/alice","ent":["user:default/alice","group:default/team-a"],"name":"Zo\u00eb \u2603","z":1,"a":[]}}`)
	info2 := json.RawMessage(`{"claims":{"sub":"user:default/alice","ent":["user:default/alice"],"emoji":"🦀"}}`)
	at := time.Date(2026, 11, 27, 11, 6, 53, 521_000_000, time.UTC)

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.GetUserInfo(t.Context(), alice); !errors.Is(err, tokens.ErrNotFound) {
			t.Fatalf("GetUserInfo on empty store = %v, want ErrNotFound", err)
		}
	})
	t.Run("UpsertThenGet", func(t *testing.T) {
		s := newStore(t)
		if err := s.UpsertUserInfo(t.Context(), alice, info1, at); err != nil {
			t.Fatalf("UpsertUserInfo: %v", err)
		}
		got, err := s.GetUserInfo(t.Context(), alice)
		if err != nil {
			t.Fatalf("GetUserInfo: %v", err)
		}
		if !bytes.Equal(got, info1) {
			t.Fatalf("GetUserInfo = %s, want byte-exact %s", got, info1)
		}
		if _, err := s.GetUserInfo(t.Context(), "user:default/bob"); !errors.Is(err, tokens.ErrNotFound) {
			t.Fatalf("GetUserInfo(bob) = %v, want ErrNotFound", err)
		}
	})
	t.Run("UpsertAgainUpdates", func(t *testing.T) {
		s := newStore(t)
		bob := "user:default/bob"
		bobInfo := json.RawMessage(`{"claims":{"sub":"user:default/bob"}}`)
		for _, step := range []struct {
			ref  string
			info json.RawMessage
		}{{alice, info1}, {bob, bobInfo}, {alice, info2}} {
			if err := s.UpsertUserInfo(t.Context(), step.ref, step.info, at); err != nil {
				t.Fatalf("UpsertUserInfo(%s): %v", step.ref, err)
			}
			at = at.Add(time.Second)
		}
		for ref, want := range map[string]json.RawMessage{alice: info2, bob: bobInfo} {
			got, err := s.GetUserInfo(t.Context(), ref)
			if err != nil {
				t.Fatalf("GetUserInfo(%s): %v", ref, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("GetUserInfo(%s) = %s, want %s", ref, got, want)
			}
		}
	})
}
