package oidc

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

func base() map[string]any {
	return map[string]any{"metadataUrl": "https://idp.example.com/realms/x", "clientId": "c", "clientSecret": "s"}
}

func with(kv ...any) map[string]any {
	m := base()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	return m
}

// parse decodes and checks one section as the provider registry does.
func parse(m map[string]any) (Config, config.Problems) {
	cfg, ps := Module.Parse(config.SectionFromMap(m))
	return *cfg.(*Config), ps
}

func TestParseConfigDefaults(t *testing.T) {
	c, ps := parse(base())
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if c.DiscoveryURL != "https://idp.example.com/realms/x/.well-known/openid-configuration" || c.ExpectedIssuer != "https://idp.example.com/realms/x" {
		t.Errorf("discovery %q issuer %q", c.DiscoveryURL, c.ExpectedIssuer)
	}
	if c.TokenEndpointAuthMethod != "client_secret_basic" || !slices.Equal(c.TokenSignedResponseAlgs, []string{"RS256"}) ||
		c.Prompt != "" || c.Timeout != 10*time.Second || c.ClockSkew != 60*time.Second || c.AllowEmailWithoutVerifiedClaim {
		t.Errorf("defaults: %+v", c)
	}
	m := base()
	m["allowEmailWithoutVerifiedClaim"] = true
	if c, _ := parse(m); !c.AllowEmailWithoutVerifiedClaim {
		t.Error("allowEmailWithoutVerifiedClaim: true not read")
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		m       map[string]any
		problem string // substring of the expected problem; "" means valid
		check   func(t *testing.T, c Config)
	}{
		{"full discovery URL", with("metadataUrl", "https://idp.example.com/.well-known/openid-configuration"), "", func(t *testing.T, c Config) {
			if c.DiscoveryURL != "https://idp.example.com/.well-known/openid-configuration" || c.ExpectedIssuer != "https://idp.example.com" {
				t.Errorf("%q %q", c.DiscoveryURL, c.ExpectedIssuer)
			}
		}},
		{"issuer with trailing slash", with("metadataUrl", "https://idp.example.com/"), "", func(t *testing.T, c Config) {
			if c.DiscoveryURL != "https://idp.example.com/.well-known/openid-configuration" {
				t.Errorf("%q", c.DiscoveryURL)
			}
		}},
		{"missing metadataUrl", with("metadataUrl", nil), "metadataUrl: missing required", nil},
		{"relative metadataUrl", with("metadataUrl", "/realms/x"), "metadataUrl: must be an absolute URL", nil},
		{"missing clientSecret", with("clientSecret", nil), "clientSecret: missing required", nil},
		{"auth method none needs no secret", with("clientSecret", nil, "tokenEndpointAuthMethod", "none"), "", nil},
		{"bad auth method", with("tokenEndpointAuthMethod", "private_key_jwt"), "tokenEndpointAuthMethod: must be one of", nil},
		{"scope is Backstage's error", with("scope", "openid"), "scope: " + ScopeOptionRemoved, nil},
		{"additionalScopes string", with("additionalScopes", "offline_access, groups|x"), "", func(t *testing.T, c Config) {
			if !slices.Equal(c.AdditionalScopes, []string{"offline_access", "groups", "x"}) {
				t.Errorf("%v", c.AdditionalScopes)
			}
		}},
		{"additionalScopes list", with("additionalScopes", []any{"a", "b"}), "", func(t *testing.T, c Config) {
			if !slices.Equal(c.AdditionalScopes, []string{"a", "b"}) {
				t.Errorf("%v", c.AdditionalScopes)
			}
		}},
		{"prompt auto omits", with("prompt", "auto"), "", func(t *testing.T, c Config) {
			if c.Prompt != "" {
				t.Errorf("prompt %q", c.Prompt)
			}
		}},
		{"prompt none is explicit", with("prompt", "none"), "", func(t *testing.T, c Config) {
			if c.Prompt != "none" {
				t.Errorf("prompt %q", c.Prompt)
			}
		}},
		{"alg list", with("tokenSignedResponseAlg", []any{"ES256", "RS256"}), "", func(t *testing.T, c Config) {
			if !slices.Equal(c.TokenSignedResponseAlgs, []string{"ES256", "RS256"}) {
				t.Errorf("%v", c.TokenSignedResponseAlgs)
			}
		}},
		{"alg HS256 refused", with("tokenSignedResponseAlg", "HS256"), "not an allowed ID token algorithm", nil},
		{"alg none refused", with("tokenSignedResponseAlg", "none"), "not an allowed ID token algorithm", nil},
		{"timeout", with("timeout", "30s"), "", func(t *testing.T, c Config) {
			if c.Timeout != 30*time.Second {
				t.Errorf("%s", c.Timeout)
			}
		}},
		{"bad timeout", with("timeout", "soon"), "timeout: invalid duration", nil},
		{"clock skew", with("clockSkew", "2m"), "", func(t *testing.T, c Config) {
			if c.ClockSkew != 2*time.Minute {
				t.Errorf("%s", c.ClockSkew)
			}
		}},
		{"clock skew too large", with("clockSkew", "10m"), "clockSkew: must be at most 5m0s", nil},
		{"startUrlSearchParams", with("startUrlSearchParams", map[string]any{"acr_values": "mfa", "ui_locales": "de"}), "", func(t *testing.T, c Config) {
			if c.StartURLSearchParams["acr_values"] != "mfa" || len(c.StartURLSearchParams) != 2 {
				t.Errorf("%v", c.StartURLSearchParams)
			}
		}},
		{"startUrlSearchParams cannot override state", with("startUrlSearchParams", map[string]any{"state": "x"}), "startUrlSearchParams.state: cannot be set", nil},
		{"unknown key is a warning", with("clientID", "typo"), "", func(t *testing.T, c Config) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := parse(tt.m)
			err := ps.Err()
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("unexpected problems: %v", err)
				}
			} else if err == nil {
				t.Fatalf("no problems, want %q", tt.problem)
			} else if msg := err.Error(); !strings.Contains(msg, tt.problem) {
				t.Fatalf("problems = %v, want %q", err, tt.problem)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestDiscoveryURL(t *testing.T) {
	for _, tt := range []struct{ in, disc, iss string }{
		{"https://h/realms/x", "https://h/realms/x/.well-known/openid-configuration", "https://h/realms/x"},
		{"https://h/realms/x/.well-known/openid-configuration", "https://h/realms/x/.well-known/openid-configuration", "https://h/realms/x"},
		{"https://h/.well-known/oauth-authorization-server/tenant", "https://h/.well-known/oauth-authorization-server/tenant", "https://h/tenant"},
		{"http://127.0.0.1:7010/v1/oidc/tenant/t1", "http://127.0.0.1:7010/v1/oidc/tenant/t1/.well-known/openid-configuration", "http://127.0.0.1:7010/v1/oidc/tenant/t1"},
	} {
		disc, iss, err := DiscoveryURL(tt.in)
		if err != nil || disc != tt.disc || iss != tt.iss {
			t.Errorf("%q: (%q, %q, %v), want (%q, %q)", tt.in, disc, iss, err, tt.disc, tt.iss)
		}
	}
	for _, bad := range []string{"", "idp.example.com", "ftp://h/x", "https://h/x?tenant=1"} {
		if _, _, err := DiscoveryURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProfileFromClaims(t *testing.T) {
	for _, tt := range []struct {
		name   string
		claims map[string]any
		email  string
		disp   string
	}{
		{"verified", map[string]any{"email": "a@x", "email_verified": true, "name": "A B"}, "a@x", "A B"},
		{"unverified bool", map[string]any{"email": "a@x", "email_verified": false}, "", ""},
		{"unverified string", map[string]any{"email": "a@x", "email_verified": "false"}, "", ""},
		{"unverified string upper", map[string]any{"email": "a@x", "email_verified": "FALSE"}, "", ""},
		{"verified string", map[string]any{"email": "a@x", "email_verified": "true"}, "a@x", ""},
		{"other string", map[string]any{"email": "a@x", "email_verified": "no"}, "", ""},
		{"number", map[string]any{"email": "a@x", "email_verified": 1}, "", ""},
		{"absent is usable when allowed", map[string]any{"email": "a@x"}, "a@x", ""},
		{"given and family", map[string]any{"given_name": "Ada", "family_name": "Lovelace"}, "", "Ada Lovelace"},
		{"family only", map[string]any{"family_name": "Lovelace"}, "", "Lovelace"},
		{"blank name falls back", map[string]any{"name": "  ", "given_name": "Ada"}, "", "Ada"},
		{"email not a string", map[string]any{"email": 42}, "", ""},
	} {
		p := ProfileFromClaims(tt.claims, true)
		if p.Email != tt.email || p.DisplayName != tt.disp {
			t.Errorf("%s: %+v, want email %q displayName %q", tt.name, p, tt.email, tt.disp)
		}
	}
	// Generic OIDC (Backstage's rule): without the claim the email is not used.
	if p := ProfileFromClaims(map[string]any{"email": "a@x"}, false); p.Email != "" {
		t.Errorf("absent claim, not allowed: email %q", p.Email)
	}
	if p := ProfileFromClaims(map[string]any{"email": "a@x", "email_verified": true}, false); p.Email != "a@x" {
		t.Errorf("verified, not allowed absent: email %q", p.Email)
	}
	if p := ProfileFromClaims(map[string]any{"picture": "https://x/p.png"}, true); p.Picture != "https://x/p.png" {
		t.Errorf("picture %q", p.Picture)
	}
}

func TestIdPCallbackError(t *testing.T) {
	for _, tt := range []struct{ code, desc, want string }{
		{"access_denied", "", "Authentication rejected, access_denied"},
		{"access_denied", "User denied", "Authentication rejected, access_denied (User denied)"},
		{"login_required", "", "Authentication rejected, login_required"},
		{"server_error", "", "Authentication failed, server_error"},
		{"invalid_scope", "", "Authentication failed, invalid_scope"},
		{"<script>", "", "Authentication rejected, unknown_error"},
		{"access_denied", "a\x00b\u202e\nc   d", "Authentication rejected, access_denied (ab c d)"},
	} {
		if got := idpCallbackError(tt.code, tt.desc).Error(); got != tt.want {
			t.Errorf("(%q, %q) = %q, want %q", tt.code, tt.desc, got, tt.want)
		}
	}
	long := idpCallbackError("access_denied", strings.Repeat("x", 1000)).Error()
	if len(long) > 260 {
		t.Errorf("description not truncated: %d bytes", len(long))
	}
}
