package authserver

import (
	"net/url"
	"testing"
)

// BenchmarkRefreshGrant is POST /v1/token with grant_type=refresh_token on SQLite:
// one scrypt to verify the presented token and one to hash its successor (Backstage's
// parameters, N=16384), one read, one compare-and-swap update and a token signature.
func BenchmarkRefreshGrant(b *testing.B) {
	h := newHarness(b, defaultAuth())
	tok := h.publicTokens()["refresh_token"].(string)
	b.ResetTimer()
	for b.Loop() {
		r := h.do("POST", "/api/auth/v1/token", nil, refreshForm(tok, publicClient))
		if r.status != 200 {
			b.Fatalf("refresh: %d %s", r.status, r.body)
		}
		tok = r.json(b)["refresh_token"].(string)
	}
}

// BenchmarkScrypt is the refresh-token hash alone.
func BenchmarkScrypt(b *testing.B) {
	h := newHarness(b, defaultAuth())
	for b.Loop() {
		if _, err := h.srv.hashRefreshToken("00000000-0000-4000-8000-000000000000.secret"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizeApproveToken is a whole consent for a static public client
// without offline_access: authorize, approve, code exchange (no scrypt).
func BenchmarkAuthorizeApproveToken(b *testing.B) {
	h := newHarness(b, defaultAuth())
	user := h.userToken(jane)
	q := authorizeQuery(publicClient, publicRedirect, "openid")
	b.ResetTimer()
	for b.Loop() {
		r := h.do("GET", q, nil, "")
		id := r.header.Get("Location")[len(testApp+"/oauth2/authorize/"):]
		r = h.do("POST", "/api/auth/v1/sessions/"+id+"/approve", bearer(user), "")
		u, _ := url.Parse(r.json(b)["redirectUrl"].(string))
		r = h.do("POST", "/api/auth/v1/token", nil, codeForm(u.Query().Get("code"), publicRedirect, publicClient))
		if r.status != 200 {
			b.Fatalf("token: %d %s", r.status, r.body)
		}
	}
}
