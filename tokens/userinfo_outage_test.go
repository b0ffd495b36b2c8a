package tokens

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// While the store does not answer, /v1/userinfo serves the last row this process read
// (however old) and, for a user it never read, a ServiceUnavailableError (503), never a
// bare error the router answers 500.
func TestUserInfoDuringStoreOutage(t *testing.T) {
	clock := newFakeClock()
	store := &failingUserInfo{countingUserInfo: newCountingUserInfo()}
	store.rows["user:default/alice"] = json.RawMessage(`{"claims":{"sub":"user:default/alice","ent":["user:default/alice"]}}`)
	store.rows["user:default/bob"] = json.RawMessage(`{"claims":{"sub":"user:default/bob","ent":["user:default/bob"]}}`)
	is := newTestIssuer(t, clock, newTestKeySet(t, clock), true, store)
	ctx := context.Background()
	want, err := is.UserInfo(ctx, "user:default/alice")
	if err != nil {
		t.Fatal(err)
	}

	store.down = true
	clock.Advance(time.Hour) // far past the cache's TTL: a read is due
	got, err := is.UserInfo(ctx, "user:default/alice")
	if err != nil || string(got) != string(want) {
		t.Fatalf("alice during the outage: %s, %v; want the last row read", got, err)
	}
	_, err = is.UserInfo(ctx, "user:default/bob")
	if name := backstageerr.NameOf(err); name != backstageerr.NameServiceUnavailable {
		t.Fatalf("bob (never read) during the outage: %v (%s), want ServiceUnavailableError", err, name)
	}

	store.down = false
	store.rows["user:default/alice"] = json.RawMessage(`{"claims":{"sub":"user:default/alice","ent":["user:default/alice","group:default/new"]}}`)
	if got, err := is.UserInfo(ctx, "user:default/alice"); err != nil || string(got) == string(want) {
		t.Fatalf("after the outage: %s, %v; want the store's new row", got, err)
	}
}
