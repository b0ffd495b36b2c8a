package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
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
