package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

const testIss = "http://127.0.0.1:17007/api/auth"

func newTestIssuer(t testing.TB, clock *fakeClock, keys signingkeys.KeySource, omitEnt bool, ui UserInfoStore) *Issuer {
	t.Helper()
	return NewIssuer(IssuerOptions{Issuer: testIss, Keys: keys, Expiration: time.Hour, OmitOwnershipClaim: omitEnt, UserInfo: ui, Now: clock.Now})
}

func TestIssueUserTokenGolden(t *testing.T) {
	clock := newFakeClock() // iat 1795777608, as in the captured Backstage token
	ks := newTestKeySet(t, clock)
	cases := []struct {
		name    string
		omitEnt bool
		claims  UserClaims
		// payload without the uip member, which is filled in from the token
		wantPayload string
	}{
		{
			name:        "captured shape",
			omitEnt:     true,
			claims:      UserClaims{Sub: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}},
			wantPayload: `{"iss":"http://127.0.0.1:17007/api/auth","sub":"user:default/alice","aud":"backstage","iat":1795777608,"exp":1795781208,"uip":"UIP"}`,
		},
		{
			name:        "html characters stay raw",
			omitEnt:     true,
			claims:      UserClaims{Sub: "user:default/a<b>&c"},
			wantPayload: `{"iss":"http://127.0.0.1:17007/api/auth","sub":"user:default/a<b>&c","aud":"backstage","iat":1795777608,"exp":1795781208,"uip":"UIP"}`,
		},
		{
			name:        "non-ASCII lower-cased and raw, with ent",
			claims:      UserClaims{Sub: "User:Default/Jöhn", Ent: []string{"GROUP:default/Ünits", "user:default/jöhn", "group:Default/ünits"}},
			wantPayload: `{"iss":"http://127.0.0.1:17007/api/auth","sub":"user:default/jöhn","ent":["group:default/ünits","user:default/jöhn"],"aud":"backstage","iat":1795777608,"exp":1795781208,"uip":"UIP"}`,
		},
		{
			name:    "extra claims first, sorted, reserved ones dropped, U+2028 raw",
			omitEnt: true,
			claims: UserClaims{Sub: "user:default/alice", Extra: map[string]any{
				"zeta": "a\u2028b", "alpha": []any{1, "<x>"}, "iss": "evil", "aud": "evil", "exp": 1, "uip": "x", "sub": "user:default/mallory",
			}},
			wantPayload: "{\"alpha\":[1,\"<x>\"],\"zeta\":\"a\u2028b\",\"iss\":\"http://127.0.0.1:17007/api/auth\",\"sub\":\"user:default/alice\",\"aud\":\"backstage\",\"iat\":1795777608,\"exp\":1795781208,\"uip\":\"UIP\"}",
		},
		{
			name:        "namespace defaults, ent nil means [sub]",
			claims:      UserClaims{Sub: "User:Bob"},
			wantPayload: `{"iss":"http://127.0.0.1:17007/api/auth","sub":"user:default/bob","ent":["user:default/bob"],"aud":"backstage","iat":1795777608,"exp":1795781208,"uip":"UIP"}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			is := newTestIssuer(t, clock, ks, tc.omitEnt, nil)
			it, err := is.IssueUserToken(ctxT(t), tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := ks.SigningKey(ctxT(t))
			d := decodeToken(t, it.Token)
			wantHeader := `{"typ":"vnd.backstage.user","alg":"ES256","kid":"` + key.KID + `"}`
			if string(d.header) != wantHeader {
				t.Errorf("header\n got %s\nwant %s", d.header, wantHeader)
			}
			var p struct{ Uip string }
			if err := json.Unmarshal(d.payload, &p); err != nil {
				t.Fatal(err)
			}
			want := strings.Replace(tc.wantPayload, "UIP", p.Uip, 1)
			if string(d.payload) != want {
				t.Errorf("payload\n got %s\nwant %s", d.payload, want)
			}
			if it.IssuedAt.Unix() != 1795777608 || it.ExpiresAt.Unix() != 1795781208 {
				t.Errorf("times %v %v", it.IssuedAt, it.ExpiresAt)
			}
			// The limited token rebuilt from the full token verifies (uip is right).
			lim := rebuildLimitedToken(t, it.Token)
			ld := decodeToken(t, lim)
			wantLimited := `{"sub":` + string(jsrules.AppendString(nil, it.Sub)) + `,"iat":1795777608,"exp":1795781208}`
			if string(ld.payload) != wantLimited {
				t.Errorf("limited payload %s, want %s", ld.payload, wantLimited)
			}
			pr, err := NewVerifier(ks, clock.Now).VerifyUserToken(ctxT(t), lim, true)
			if err != nil {
				t.Fatalf("rebuilt limited token does not verify: %v", err)
			}
			if !pr.Limited || pr.Sub != it.Sub {
				t.Errorf("principal %+v", pr)
			}
		})
	}
}

// TestCapturedBackstageToken pins our limited-token rebuild and verifier against
// a token issued by the real Node backend.
func TestCapturedBackstageToken(t *testing.T) {
	tok, err := os.ReadFile("testdata/backstage-token.txt")
	if err != nil {
		t.Fatal(err)
	}
	var lim struct{ LimitedToken string }
	b, _ := os.ReadFile("testdata/backstage-limited-token.json")
	if err := json.Unmarshal(b, &lim); err != nil {
		t.Fatal(err)
	}
	full := strings.TrimSpace(string(tok))
	if got := rebuildLimitedToken(t, full); got != lim.LimitedToken {
		t.Fatalf("rebuilt limited token differs from Backstage's\n got %s\nwant %s", got, lim.LimitedToken)
	}
	// Verify both with our verifier over the captured JWKS.
	// The captured key, stored as the Node backend stored it when it issued the token.
	var set struct{ Keys []json.RawMessage }
	var jwk struct{ Kid string }
	jb, _ := os.ReadFile("testdata/backstage-jwks.json")
	if err := json.Unmarshal(jb, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("captured JWKS: %v", err)
	}
	if err := json.Unmarshal(set.Keys[0], &jwk); err != nil {
		t.Fatal(err)
	}
	store := signingkeys.NewMemoryKeyStore()
	if err := store.AddKey(ctxT(t), signingkeys.StoredKey{KID: jwk.Kid, JWK: set.Keys[0], CreatedAt: time.Unix(1795777608, 0)}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Unix(1795777700, 0) }
	v := NewVerifier(signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: store, KeyDuration: time.Hour, Now: now}), now)
	for _, tc := range []struct {
		tok     string
		limited bool
	}{{full, false}, {lim.LimitedToken, true}} {
		pr, err := v.VerifyUserToken(context.Background(), tc.tok, true)
		if err != nil {
			t.Fatalf("captured token: %v", err)
		}
		if pr.Sub != "user:default/alice" || pr.Limited != tc.limited || pr.ExpiresAt.Unix() != 1795781208 {
			t.Errorf("principal %+v", pr)
		}
	}
}

// TestIssuedTokenVerifiesWithGoJose checks the token independently, with go-jose
// against the JWKS document we serve.
func TestIssuedTokenVerifiesWithGoJose(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	is := newTestIssuer(t, clock, ks, false, nil)
	it, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/jöhn", Extra: map[string]any{"x": "\u2028<"}})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ks.JWKS(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{it.Token, rebuildLimitedToken(t, it.Token)} {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		kid := jws.Signatures[0].Header.KeyID
		keys := set.Key(kid)
		if len(keys) != 1 {
			t.Fatalf("kid %s listed %d times", kid, len(keys))
		}
		payload, err := jws.Verify(keys[0])
		if err != nil {
			t.Fatalf("go-jose rejects our token: %v", err)
		}
		if string(payload) != string(decodeToken(t, tok).payload) {
			t.Error("verified payload differs")
		}
	}
}

// TestUIPVerifiesInNode rebuilds the limited token with JavaScript's own
// JSON.stringify and verifies it with Node's crypto against our JWKS, as a
// Backstage backend does.
func TestUIPVerifiesInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; cross-implementation check skipped")
	}
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	is := newTestIssuer(t, clock, ks, true, nil)
	doc, _ := ks.JWKS(ctxT(t))
	var toks []string
	for _, sub := range []string{"user:default/a<b>&c", "user:default/jöhn", "user:default/x\u2028y", "user:default/q\"uote\\d", "user:default/日本"} {
		it, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: sub})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, it.Token)
	}
	doc, _ = ks.JWKS(ctxT(t))
	script := `const crypto = require("crypto");
const [jwksJSON, ...toks] = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
const keys = JSON.parse(jwksJSON).keys;
const b64 = s => Buffer.from(s, "base64url");
for (const t of toks) {
  const [h, p, s] = t.split(".");
  const hdr = JSON.parse(b64(h).toString()), pl = JSON.parse(b64(p).toString());
  const key = crypto.createPublicKey({ key: keys.find(k => k.kid === hdr.kid), format: "jwk" });
  const ok = (data, sig) => crypto.verify("sha256", Buffer.from(data), { key, dsaEncoding: "ieee-p1363" }, b64(sig));
  const lh = Buffer.from(JSON.stringify({ typ: "vnd.backstage.limited-user", alg: hdr.alg, kid: hdr.kid })).toString("base64url");
  const lp = Buffer.from(JSON.stringify({ sub: pl.sub, iat: pl.iat, exp: pl.exp })).toString("base64url");
  console.log(ok(h + "." + p, s) && ok(lh + "." + lp, pl.uip) ? "ok" : "FAIL " + pl.sub);
}`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = strings.NewReader(string(doc) + "\n" + strings.Join(toks, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) != len(toks) {
		t.Fatalf("node output: %s", out)
	}
	for i, l := range lines {
		if l != "ok" {
			t.Errorf("token %d: %s", i, l)
		}
	}
}

func TestIssueUserTokenInvalidClaims(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	is := newTestIssuer(t, clock, ks, false, nil)
	for _, tc := range []struct {
		name   string
		claims UserClaims
		want   string
	}{
		{"sub without kind", UserClaims{Sub: "alice"}, "missing or empty kind"},
		{"empty sub", UserClaims{Sub: ""}, "must not be empty"},
		{"empty name", UserClaims{Sub: "user:default/"}, "was not on the form"},
		{"bad ent", UserClaims{Sub: "user:default/a", Ent: []string{"team-a"}}, `"ent" claim`},
		{"unserialisable extra", UserClaims{Sub: "user:default/a", Extra: map[string]any{"c": make(chan int)}}, `custom claim "c"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := is.IssueUserToken(ctxT(t), tc.claims)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errClass(err) != backstageerr.NameInput {
				t.Errorf("class %s, want InputError", errClass(err))
			}
		})
	}
}

func TestIssueUserTokenSizeLimit(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	is := newTestIssuer(t, clock, ks, false, newCountingUserInfo())
	ent := make([]string, 0, 1500)
	for i := range 1500 {
		ent = append(ent, "group:default/a-rather-long-group-name-"+strings.Repeat("x", 3)+string(rune('a'+i%26))+strconv.Itoa(i))
	}
	_, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/alice", Ent: ent})
	if err == nil {
		t.Fatal("expected the token to be refused")
	}
	const prefix = "Failed to issue a new user token. The resulting token is excessively large, with either too many ownership claims or too large custom claims. You likely have a bug either in the sign-in resolver or catalog data. The following claims were requested: '{"
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("message: %.300s", err.Error())
	}
	if errClass(err) != backstageerr.NameError {
		t.Errorf("class %s", errClass(err))
	}
	// With the ownership claim omitted the same user fits.
	is2 := newTestIssuer(t, clock, ks, true, nil)
	it, err := is2.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/alice", Ent: ent})
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Ent) != 1500 {
		t.Errorf("IssuedToken.Ent has %d refs", len(it.Ent))
	}
	// Just under the limit is accepted: grow an extra claim until the token is as
	// large as allowed.
	base, _ := is2.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/alice", Extra: map[string]any{"pad": ""}})
	largest := 0
	for pad := (MaxTokenLength-len(base.Token))*3/4 - 8; pad < MaxTokenLength; pad++ {
		it, err := is2.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/alice", Extra: map[string]any{"pad": strings.Repeat("p", pad)}})
		if err != nil {
			break
		}
		largest = len(it.Token)
	}
	if largest > MaxTokenLength || largest < MaxTokenLength-4 {
		t.Errorf("largest accepted token has %d characters, want just under %d", largest, MaxTokenLength)
	}
}

func TestUserInfoSkipsUnchangedWrites(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	store := newCountingUserInfo()
	is := newTestIssuer(t, clock, ks, true, store)
	ctx := ctxT(t)
	alice := UserClaims{Sub: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}}
	for range 5 {
		clock.Advance(time.Minute)
		if _, err := is.IssueUserToken(ctx, alice); err != nil {
			t.Fatal(err)
		}
	}
	if w, _ := store.counts(); w != 1 {
		t.Fatalf("%d writes for 5 identical issuances, want 1", w)
	}
	const want1 = `{"claims":{"sub":"user:default/alice","ent":["user:default/alice","group:default/team-a"]}}`
	if got := string(store.rows["user:default/alice"]); got != want1 {
		t.Errorf("row %s", got)
	}
	// Changed ownership and extra claims: written again (ent always in full).
	alice.Ent = append(alice.Ent, "group:default/team-b")
	alice.Extra = map[string]any{"email": "alice@example.com", "iss": "kept-in-user-info"}
	if _, err := is.IssueUserToken(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := is.IssueUserToken(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if w, _ := store.counts(); w != 2 {
		t.Fatalf("%d writes, want 2", w)
	}
	const want2 = `{"claims":{"sub":"user:default/alice","ent":["user:default/alice","group:default/team-a","group:default/team-b"],"email":"alice@example.com","iss":"kept-in-user-info"}}`
	got, err := is.UserInfo(ctx, "user:default/alice")
	if err != nil || string(got) != want2 {
		t.Fatalf("UserInfo = %s, %v", got, err)
	}
	if _, r := store.counts(); r != 0 {
		t.Errorf("UserInfo read the store %d times right after our own write", r)
	}
	// After the skip TTL the same claims are written again (another replica may
	// have written something else meanwhile).
	clock.Advance(DefaultUserInfoSkipTTL)
	if _, err := is.IssueUserToken(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if w, _ := store.counts(); w != 3 {
		t.Fatalf("%d writes after the skip TTL, want 3", w)
	}
}

func TestUserInfoReadCache(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	store := newCountingUserInfo()
	is := newTestIssuer(t, clock, ks, true, store)
	ctx := ctxT(t)
	if _, err := is.UserInfo(ctx, "user:default/nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	// Another replica wrote bob.
	_ = store.UpsertUserInfo(ctx, "user:default/bob", json.RawMessage(`{"claims":{"sub":"user:default/bob","ent":["a"]}}`), clock.Now())
	for range 3 {
		if got, err := is.UserInfo(ctx, "user:default/bob"); err != nil || !strings.Contains(string(got), `["a"]`) {
			t.Fatalf("%s %v", got, err)
		}
	}
	if _, r := store.counts(); r != 2 { // one miss for nobody, one for bob
		t.Errorf("%d store reads, want 2", r)
	}
	_ = store.UpsertUserInfo(ctx, "user:default/bob", json.RawMessage(`{"claims":{"sub":"user:default/bob","ent":["b"]}}`), clock.Now())
	if got, _ := is.UserInfo(ctx, "user:default/bob"); !strings.Contains(string(got), `["a"]`) {
		t.Errorf("within the TTL the cached row is served, got %s", got)
	}
	clock.Advance(DefaultUserInfoTTL)
	if got, _ := is.UserInfo(ctx, "user:default/bob"); !strings.Contains(string(got), `["b"]`) {
		t.Errorf("after the TTL the newer row must be served, got %s", got)
	}
}

func TestUserInfoWithoutStore(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock, newTestKeySet(t, clock), true, nil)
	if _, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/alice"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour) // longer than the read TTL: served from the memory store
	got, err := is.UserInfo(ctxT(t), "user:default/alice")
	if err != nil || string(got) != `{"claims":{"sub":"user:default/alice","ent":["user:default/alice"]}}` {
		t.Fatalf("%s %v", got, err)
	}
}

func TestHasCachedUserInfo(t *testing.T) {
	clock := newFakeClock()
	ks := newTestKeySet(t, clock)
	is := newTestIssuer(t, clock, ks, false, nil)
	if is.HasCachedUserInfo("user:default/alice") {
		t.Fatal("cached before any token was issued")
	}
	if _, err := is.IssueUserToken(ctxT(t), UserClaims{Sub: "user:default/alice"}); err != nil {
		t.Fatal(err)
	}
	if !is.HasCachedUserInfo("user:default/alice") {
		t.Fatal("not cached after issuing")
	}
	clock.Advance(DefaultUserInfoTTL + time.Second)
	if is.HasCachedUserInfo("user:default/alice") {
		t.Fatal("still cached after the TTL: the next read goes to the store")
	}
}
