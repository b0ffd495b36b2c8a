package spectrocloud_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/spectrocloud"
)

func newProvider(t *testing.T, m map[string]any, now func() time.Time) *spectrocloud.Provider {
	t.Helper()
	c, ps := parse(m)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	p, err := spectrocloud.New(c, providers.Deps{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(m map[string]any) (spectrocloud.Config, config.Problems) {
	cfg, ps := spectrocloud.Module.Parse(config.SectionFromMap(m))
	return *cfg.(*spectrocloud.Config), ps
}

// teraskyConfig is the reference app-config's provider block.
func teraskyConfig(issuer string) map[string]any {
	return map[string]any{
		"clientId":         "backstage-client",
		"clientSecret":     "backstage-secret",
		"authorizationUrl": issuer + "/auth",
		"callbackUrl":      "http://127.0.0.1:7007/api/auth/spectrocloud/handler/frame",
		"scope":            "openid profile email",
		"signIn":           map[string]any{"resolvers": []any{map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}}},
	}
}

func TestConformance(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		New: func(t *testing.T, issuer string, k providertest.Knobs) providertest.Provider {
			m := teraskyConfig(issuer)
			if k.Prompt != "" {
				m["prompt"] = k.Prompt
			}
			if k.Timeout != 0 {
				m["timeout"] = k.Timeout.String()
			}
			return newProvider(t, m, k.Now)
		},
		TokenAuthMethod:           "client_secret_post",
		SessionTokenAsAccessToken: true,
		EmailWithoutVerifiedClaim: true,
	})
}

func TestIssuerFromAuthorizationURL(t *testing.T) {
	tests := []struct {
		in, issuer, tenant string
	}{
		{"https://console.spectrocloud.com/v1/oidc/tenant/40b8a9a7f724831be814e5734ea744ed/auth", "https://console.spectrocloud.com/v1/oidc/tenant/40b8a9a7f724831be814e5734ea744ed", "40b8a9a7f724831be814e5734ea744ed"},
		{"https://console.spectrocloud.com/v1/oidc/tenant/t1/auth/", "https://console.spectrocloud.com/v1/oidc/tenant/t1", "t1"},
		{"https://auth.example.com/v1/oidc/tenant/t1/auth", "https://auth.example.com/v1/oidc/tenant/t1", "t1"},
		{"http://127.0.0.1:17010/v1/oidc/tenant/t1/auth", "http://127.0.0.1:17010/v1/oidc/tenant/t1", "t1"},
		{"https://palette.example.com:8443/v1/oidc/tenant/abc-123_x/auth", "https://palette.example.com:8443/v1/oidc/tenant/abc-123_x", "abc-123_x"},
		// wrong shapes
		{"https://console.spectrocloud.com/v1/auth/org/acme/oidc/authorize", "", ""}, // TeraSky's wrong schema example
		{"https://console.spectrocloud.com/v1/oidc/tenant/t1", "", ""},
		{"https://console.spectrocloud.com/v1/oidc/tenant/t1/authorize", "", ""},
		{"https://console.spectrocloud.com/v1/oidc/tenant//auth", "", ""},
		{"https://console.spectrocloud.com/prefix/v1/oidc/tenant/t1/auth", "", ""},
		{"https://console.spectrocloud.com/v1/oidc/tenant/t1/x/auth", "", ""},
		{"https://console.spectrocloud.com/v1/oidc/tenant/t%2F1/auth", "", ""},
		{"https://console.spectrocloud.com/v1/oidc/tenant/t1/auth?x=1", "", ""},
		{"/v1/oidc/tenant/t1/auth", "", ""},
		{"ftp://host/v1/oidc/tenant/t1/auth", "", ""},
		{"not a url", "", ""},
	}
	for _, tt := range tests {
		iss, tenant, err := spectrocloud.IssuerFromAuthorizationURL(tt.in)
		if tt.issuer == "" {
			if err == nil {
				t.Errorf("%q: derived %q, want a problem", tt.in, iss)
			} else if msg := err.Error(); !strings.Contains(msg, "/v1/oidc/tenant/<tenantUid>/auth") || !strings.Contains(msg, "metadataUrl") {
				t.Errorf("%q: problem %q does not explain the shape and suggest metadataUrl", tt.in, err)
			}
			continue
		}
		if err != nil || iss != tt.issuer || tenant != tt.tenant {
			t.Errorf("%q: got (%q, %q, %v), want (%q, %q)", tt.in, iss, tenant, err, tt.issuer, tt.tenant)
		}
	}
}

func TestParseConfig(t *testing.T) {
	t.Run("TeraSky keys", func(t *testing.T) {
		c, ps := parse(map[string]any{
			"clientId": "c", "clientSecret": "s", "authorizationUrl": "https://auth.example.com/v1/oidc/tenant/t1/auth",
			"scope": "openid profile email groups", "prompt": "login", "sessionDuration": "8h",
			"signIn": map[string]any{"resolvers": []any{}},
		})
		if len(ps) != 0 {
			t.Fatal(ps)
		}
		if !c.AllowEmailWithoutVerifiedClaim {
			t.Error("Palette may omit email_verified: the email must be usable without it by default")
		}
		if c.DiscoveryURL != "https://auth.example.com/v1/oidc/tenant/t1/.well-known/openid-configuration" || c.TenantID != "t1" {
			t.Errorf("discovery %q tenant %q", c.DiscoveryURL, c.TenantID)
		}
		if c.TokenEndpointAuthMethod != oidc.AuthMethodClientSecretPost {
			t.Errorf("auth method %q, want client_secret_post", c.TokenEndpointAuthMethod)
		}
		if !slices.Contains(c.AdditionalScopes, "groups") {
			t.Errorf("additional scopes %v lack groups from scope", c.AdditionalScopes)
		}
		if c.Prompt != "login" {
			t.Errorf("prompt %q", c.Prompt)
		}
	})
	t.Run("metadataUrl instead of authorizationUrl", func(t *testing.T) {
		c, ps := parse(map[string]any{"clientId": "c", "clientSecret": "s", "metadataUrl": "https://idp.example.com/custom", "tokenEndpointAuthMethod": "client_secret_basic"})
		if err := ps.Err(); err != nil {
			t.Fatal(err)
		}
		if c.ExpectedIssuer != "https://idp.example.com/custom" || c.TokenEndpointAuthMethod != "client_secret_basic" {
			t.Errorf("%+v", c.Config)
		}
	})
	for name, m := range map[string]map[string]any{
		"no authorizationUrl nor metadataUrl": {"clientId": "c", "clientSecret": "s"},
		"bad authorizationUrl":                {"clientId": "c", "clientSecret": "s", "authorizationUrl": "https://console.spectrocloud.com/v1/auth/org/acme/oidc/authorize"},
		"no clientId":                         {"clientSecret": "s", "authorizationUrl": "https://h/v1/oidc/tenant/t1/auth"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, ps := parse(m); ps.Err() == nil {
				t.Fatal("no problem recorded")
			}
		})
	}
}

// Palette without its HS256 session token: accessToken falls back to the access token,
// idToken stays the RS256 ID token, and expiresInSeconds follows the ID token.
func TestProviderInfoWithoutSessionToken(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{IDTokenTTL: 30 * time.Minute})
	issuer := idp.Start(t)
	p := newProvider(t, teraskyConfig(issuer), nil)
	idp.SetFault(mockpalette.Fault{NoSessionToken: true})
	res, _, err := providertest.Flow{T: t, IdP: idp, Provider: p}.SignIn()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ProviderInfo.AccessToken, "mock-at-") {
		t.Errorf("accessToken = %.20q, want the access_token", res.ProviderInfo.AccessToken)
	}
	if e := res.ProviderInfo.ExpiresInSeconds; e < 1700 || e > 1800 {
		t.Errorf("expiresInSeconds = %d, want the ID token's ~1800", e)
	}
	r1, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session})
	if err != nil {
		t.Fatal(err)
	}
	if r1.ProviderInfo.IDToken != res.ProviderInfo.IDToken {
		t.Error("refresh changed the ID token")
	}
}

// A sealed Palette session never reaches the token endpoint as a refresh token.
func TestSessionTokenNeverSentAsRefreshToken(t *testing.T) {
	idp := mockpalette.New(mockpalette.Options{})
	issuer := idp.Start(t)
	p := newProvider(t, teraskyConfig(issuer), nil)
	res, _, err := providertest.Flow{T: t, IdP: idp, Provider: p}.SignIn()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := p.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Logout(context.Background(), res.Session); err != nil {
		t.Fatal(err)
	}
	for _, r := range idp.RequestsTo("/token") {
		if r.Form.Get("grant_type") != "authorization_code" {
			t.Errorf("unexpected token request %v", r.Form.Get("grant_type"))
		}
	}
	if n := len(idp.RequestsTo("/revoke")); n != 0 {
		t.Errorf("%d revocations of a Palette session token", n)
	}
}
