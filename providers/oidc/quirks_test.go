package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
)

// editDiscovery serves idp with the discovery document passed through edit.
func editDiscovery(t *testing.T, idp *mockpalette.Server, edit func(map[string]any)) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/openid-configuration") {
			idp.Handler().ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		idp.Handler().ServeHTTP(rec, r)
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Errorf("discovery: %v", err)
		}
		edit(doc)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + idp.IssuerPath()
}

func newOIDC(t testing.TB, m map[string]any) *oidc.Provider {
	t.Helper()
	cfg, ps := oidc.Module.Parse(config.SectionFromMap(m))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Build(providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*oidc.Provider)
}

func clientConfig(issuer string) map[string]any {
	return map[string]any{"metadataUrl": issuer, "clientId": "backstage-client", "clientSecret": "backstage-secret"}
}

// Discovery without grant_types_supported: plain OIDC tries the refresh grant with the
// returned refresh_token; Palette answers unsupported_grant_type and the provider falls
// back to re-verifying the ID token.
func TestRefreshFallsBackOnUnsupportedGrant(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{})
	issuer := editDiscovery(t, idp, func(d map[string]any) { delete(d, "grant_types_supported") })
	p := newOIDC(t, clientConfig(issuer))
	res, _, err := providertest.Flow{T: t, IdP: idp, Provider: p}.SignIn()
	if err != nil {
		t.Fatal(err)
	}
	r1, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if r1.ProviderInfo.IDToken != res.ProviderInfo.IDToken {
		t.Error("ID token changed")
	}
	toks := idp.RequestsTo("/token")
	if len(toks) != 2 || toks[1].Form.Get("grant_type") != "refresh_token" {
		t.Fatalf("want a refresh grant attempt, got %d token requests", len(toks))
	}
}

// Without userinfo_endpoint the ID token claims alone make the profile (Backstage
// refuses such IdPs).
func TestNoUserinfoEndpoint(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{})
	issuer := editDiscovery(t, idp, func(d map[string]any) { delete(d, "userinfo_endpoint") })
	p := newOIDC(t, clientConfig(issuer))
	res, _, err := providertest.Flow{T: t, IdP: idp, Provider: p}.SignIn()
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile.Email != "alice@example.com" || len(idp.RequestsTo("/userinfo")) != 0 {
		t.Errorf("profile %+v, userinfo calls %d", res.Profile, len(idp.RequestsTo("/userinfo")))
	}
}

// Without S256 in discovery, no PKCE parameters are sent.
func TestNoPKCEWhenNotAdvertised(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{})
	issuer := editDiscovery(t, idp, func(d map[string]any) { delete(d, "code_challenge_methods_supported") })
	p := newOIDC(t, clientConfig(issuer))
	if _, _, err := (providertest.Flow{T: t, IdP: idp, Provider: p}).SignIn(); err != nil {
		t.Fatal(err)
	}
	auth := idp.RequestsTo("/auth")[0]
	if auth.Query.Has("code_challenge") || idp.RequestsTo("/token")[0].Form.Has("code_verifier") {
		t.Error("PKCE sent although not advertised")
	}
}

func TestClientSecretPostAndAlgAllowlist(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{})
	issuer := idp.Start(t)
	m := clientConfig(issuer)
	m["tokenEndpointAuthMethod"] = "client_secret_post"
	p := newOIDC(t, m)
	if _, _, err := (providertest.Flow{T: t, IdP: idp, Provider: p}).SignIn(); err != nil {
		t.Fatal(err)
	}
	if f := idp.RequestsTo("/token")[0]; f.Form.Get("client_secret") != "backstage-secret" || f.Header.Get("Authorization") != "" {
		t.Error("client_secret_post not used")
	}

	m = clientConfig(issuer)
	m["tokenSignedResponseAlg"] = "ES256"
	p = newOIDC(t, m)
	_, _, err := providertest.Flow{T: t, IdP: idp, Provider: p}.SignIn()
	if err == nil {
		t.Fatal("RS256 token accepted with an ES256 allowlist")
	}
	if msg := err.Error(); !strings.Contains(msg, `"RS256", which is not an accepted algorithm`) {
		t.Fatalf("RS256 token with ES256 allowlist: %v", err)
	}
}

// Logout never fails, and sends nothing for sessions without a refresh token.
func TestLogoutWithoutRevocationEndpoint(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{})
	p := newOIDC(t, clientConfig(idp.Start(t)))
	for _, s := range [][]byte{nil, []byte("garbage"), bytes.Repeat([]byte("x"), 10)} {
		if err := p.Logout(context.Background(), s); err != nil {
			t.Errorf("logout(%q): %v", s, err)
		}
	}
	if n := len(idp.Requests()); n != 0 {
		t.Errorf("%d requests for logouts without a refresh token", n)
	}
}
