package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/remotecatalog"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// discardUserInfo is a user_info table that keeps nothing in this process: the
// database's memory is not the auth backend's, and 100k real writes would measure
// the disk. Reads answer what the sign-in wrote.
type discardUserInfo struct{}

func (discardUserInfo) UpsertUserInfo(context.Context, string, json.RawMessage, time.Time) error {
	return nil
}

func (discardUserInfo) GetUserInfo(_ context.Context, ref string) (json.RawMessage, error) {
	return json.RawMessage(`{"claims":{"sub":"` + ref + `","ent":["` + ref + `"]}}`), nil
}

// TestMemoryCurve: what the process holds after N distinct users each signed in
// (remote catalog lookup, token, user_info write), called /v1/userinfo (token
// verification, user_info read) and refreshed (lookup, token, skipped write). Every
// per-user cache is a bounded LRU, so the heap must stop growing once they are full.
func TestMemoryCurve(t *testing.T) {
	total := 2000
	marks := []int{0, 1000, 2000}
	if full() {
		total = 100_000
		marks = []int{0, 10_000, 25_000, 50_000, 100_000}
	}
	org := newOrg(total)
	srv := httptest.NewServer(newStubCatalog(org))
	defer srv.Close()
	cat, err := remotecatalog.New(remotecatalog.Options{BaseURL: srv.URL + "/api/catalog", StaticToken: "scale", CacheTTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res := buildResolver(t, cat, signInResolvers[0].entry)
	keys := signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: signingkeys.NewMemoryKeyStore(), KeyDuration: time.Hour})
	is := tokens.NewIssuer(tokens.IssuerOptions{Issuer: "http://127.0.0.1/api/auth", Keys: keys, Expiration: time.Hour, UserInfo: discardUserInfo{}})
	ver := tokens.NewVerifier(keys, nil)
	ctx := context.Background()
	signIn := func(i int) string {
		id, err := res.Resolve(ctx, resolvers.SignInInfo{ProviderID: "oidc", Email: fmt.Sprintf("user-%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := is.IssueUserToken(ctx, tokens.UserClaims{Sub: id.UserEntityRef, Ent: id.OwnershipEntityRefs})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	header := []string{"distinct users signed in and refreshed", "heap held", "growth per user since the previous row"}
	var rows [][]string
	base := liveHeap()
	prev, prevUsers := uint64(0), 0
	done := 0
	for _, m := range marks {
		for ; done < m; done++ {
			tok := signIn(done)
			p, err := ver.VerifyUserToken(ctx, tok, false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := is.UserInfo(ctx, p.Sub); err != nil {
				t.Fatal(err)
			}
			signIn(done) // the refresh
		}
		held := liveHeap() - min(base, liveHeap())
		per := "–"
		if m > 0 {
			per = fmt.Sprintf("%d B", (int64(held)-int64(prev))/int64(m-prevUsers))
		}
		rows = append(rows, []string{count(m), mib(held), per})
		if full() && m == 100_000 && held > prev+8<<20 {
			t.Errorf("heap grew by %s between 50k and 100k users: a per-user cache is unbounded", mib(held-prev))
		}
		prev, prevUsers = held, m
	}
	table("Memory after distinct users (caches: user_info 10k, verified tokens, catalog lookups 1024)", header, rows)
}
