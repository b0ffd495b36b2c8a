package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
)

// mintIDToken runs the mock's authorize and token endpoints by hand and returns the ID
// and access tokens it issued for nonce.
func mintIDToken(t *testing.T, idp *mockpalette.Server, base, nonce string) (idToken, accessToken string) {
	t.Helper()
	e := idp.Endpoints()
	q := url.Values{"client_id": {"backstage-client"}, "redirect_uri": {"http://127.0.0.1/cb"}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"s"}, "nonce": {nonce}}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + e.Authorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {"http://127.0.0.1/cb"},
		"client_id": {"backstage-client"}, "client_secret": {"backstage-secret"}}
	resp, err = http.PostForm(base+e.Token, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.IDToken == "" {
		t.Fatalf("token answer: %d %v", resp.StatusCode, err)
	}
	return tok.IDToken, tok.AccessToken
}

func TestIDTokenVerifier(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{Personality: mockpalette.GenericOIDC})
	issuer := idp.Start(t)
	base := strings.TrimSuffix(issuer, idp.IssuerPath())
	v, err := oidc.NewIDTokenVerifierFor(issuer+"/.well-known/openid-configuration", "backstage-client", nil, 0, providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	raw, at := mintIDToken(t, idp, base, "n-1")
	claims, err := v.VerifyIDToken(ctx, raw, "n-1", at)
	if err != nil || claims["email"] != "alice@example.com" || claims["sub"] != "u-alice-0001" {
		t.Fatalf("valid token: %v %v", claims, err)
	}
	if _, err := v.VerifyIDToken(ctx, raw, "", ""); err != nil {
		t.Fatalf("refresh-style check (no nonce, no at_hash): %v", err)
	}
	for name, check := range map[string]func() error{
		"wrong nonce": func() error { _, err := v.VerifyIDToken(ctx, raw, "n-2", at); return err },
		"at_hash of another access token": func() error {
			_, err := v.VerifyIDToken(ctx, raw, "n-1", "another-access-token")
			return err
		},
		"empty":     func() error { _, err := v.VerifyIDToken(ctx, "", "", ""); return err },
		"not a JWT": func() error { _, err := v.VerifyIDToken(ctx, "a.b", "", ""); return err },
		"bad signature": func() error {
			idp.SetFault(mockpalette.Fault{BadSignature: true})
			bad, _ := mintIDToken(t, idp, base, "n-3")
			_, err := v.VerifyIDToken(ctx, bad, "n-3", "")
			return err
		},
		"another audience": func() error {
			idp.SetFault(mockpalette.Fault{Audience: "someone-else"})
			bad, _ := mintIDToken(t, idp, base, "n-4")
			_, err := v.VerifyIDToken(ctx, bad, "n-4", "")
			return err
		},
		"alg none": func() error {
			idp.SetFault(mockpalette.Fault{AlgNone: true})
			bad, _ := mintIDToken(t, idp, base, "n-5")
			_, err := v.VerifyIDToken(ctx, bad, "n-5", "")
			return err
		},
	} {
		if err := check(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "eyJ") {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
}

// vendorIdP serves a discovery document announcing issuer (with {base} replaced by the
// server's URL) and the JWKS of mockkit.Key(1); sign mints tokens it vouches for.
func vendorIdP(t *testing.T, issuer string) (base string, sign func(map[string]any) string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss := strings.ReplaceAll(issuer, "{base}", srv.URL)
	mux.HandleFunc("/tenant/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": srv.URL + "/authorize",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(mockkit.JWKS(&mockkit.Key(1).PublicKey, "k1"))
	})
	return srv.URL, func(claims map[string]any) string {
		c := map[string]any{"sub": "u1", "aud": "client-1", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range claims {
			c[k] = v
		}
		return mockkit.SignRS256(mockkit.Key(1), "k1", c)
	}
}

// Issuer rules for vendors: aliases (Google's scheme-less accounts.google.com) and
// Entra ID's templated multi-tenant issuer, matched against the token's own tid.
func TestIDTokenVerifierIssuerOptions(t *testing.T) {
	ctx := context.Background()
	verifier := func(t *testing.T, base string, o *oidc.IssuerOptions) *oidc.IDTokenVerifier {
		v, err := oidc.NewIDTokenVerifierFor(base+"/tenant/v2.0", "client-1", nil, 0, providers.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if o != nil {
			v.WithIssuers(*o)
		}
		return v
	}

	t.Run("aliases", func(t *testing.T) {
		base, sign := vendorIdP(t, "{base}/tenant/v2.0")
		plain := verifier(t, base, nil)
		aliased := verifier(t, base, &oidc.IssuerOptions{Aliases: []string{"accounts.example"}})
		for _, tc := range []struct {
			v    *oidc.IDTokenVerifier
			iss  string
			want bool
		}{
			{plain, base + "/tenant/v2.0", true},
			{plain, "accounts.example", false},
			{aliased, base + "/tenant/v2.0", true},
			{aliased, "accounts.example", true},
			{aliased, "https://accounts.example", false},
			{aliased, "", false},
		} {
			_, err := tc.v.VerifyIDToken(ctx, sign(map[string]any{"iss": tc.iss}), "", "")
			if (err == nil) != tc.want {
				t.Errorf("iss %q: err %v, want accepted=%v", tc.iss, err, tc.want)
			}
		}
	})

	t.Run("templated tenant", func(t *testing.T) {
		base, sign := vendorIdP(t, "{base}/{tenantid}/v2.0")
		if _, err := verifier(t, base, nil).VerifyIDToken(ctx, sign(map[string]any{"iss": base + "/t1/v2.0", "tid": "t1"}), "", ""); err == nil ||
			!strings.Contains(err.Error(), "does not match the configured") {
			t.Fatalf("without options the templated document must be refused: %v", err)
		}
		entra := &oidc.IssuerOptions{Announced: func(iss string) bool { return iss == base+"/{tenantid}/v2.0" }, TenantClaim: "tid"}
		v := verifier(t, base, entra)
		for _, tc := range []struct {
			claims map[string]any
			want   bool
		}{
			{map[string]any{"iss": base + "/t1/v2.0", "tid": "t1"}, true},
			{map[string]any{"iss": base + "/0c2d-9f.x/v2.0", "tid": "0c2d-9f.x"}, true},
			{map[string]any{"iss": base + "/t1/v2.0", "tid": "t2"}, false},
			{map[string]any{"iss": base + "/t1/v2.0"}, false},
			{map[string]any{"iss": base + "/{tenantid}/v2.0"}, false},
			{map[string]any{"iss": base + "/a/b/v2.0", "tid": "a/b"}, false},
			{map[string]any{"iss": base + "/t1/v2.0", "tid": 7}, false},
			// The other checks still apply.
			{map[string]any{"iss": base + "/t1/v2.0", "tid": "t1", "aud": "client-2"}, false},
		} {
			_, err := v.VerifyIDToken(ctx, sign(tc.claims), "", "")
			if (err == nil) != tc.want {
				t.Errorf("%v: err %v, want accepted=%v", tc.claims, err, tc.want)
			}
		}
	})
}
