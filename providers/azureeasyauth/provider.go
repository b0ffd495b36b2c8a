package azureeasyauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/proxyjwt"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// Provider is the built Easy Auth provider.
type Provider struct {
	env  Env
	keys *keyfetch.Fetcher
	now  func() time.Time
	log  *slog.Logger
}

var _ providers.ProxyProvider = (*Provider)(nil)

// ProviderInfo is Backstage's providerInfo: the access token App Service holds for the
// user ({} when it sends none).
type ProviderInfo struct {
	AccessToken string `json:"accessToken,omitempty"`
}

// consumersTenant is the tenant of personal Microsoft accounts.
const consumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// MsgNotV2 is Backstage's error for an ID token that is not a v2.0 token (with its
// trailing space).
const MsgNotV2 = "id_token is not version 2.0 "

// AuthenticateRequest implements providers.ProxyProvider.
func (p *Provider) AuthenticateRequest(ctx context.Context, r *http.Request) (providers.ProxyResult, error) {
	raw := r.Header.Get(IDTokenHeader)
	if raw == "" {
		return providers.ProxyResult{}, backstageerr.Authentication("Missing %s header", IDTokenHeader)
	}
	// Backstage looks at ver before anything else (on the decoded token); so does this,
	// so a v1.0 token gets Backstage's answer whether or not it would verify.
	if ver, ok := unverifiedVersion(raw); ok && ver != "2.0" {
		return providers.ProxyResult{}, backstageerr.Plain(MsgNotV2)
	}
	tok, err := proxyjwt.Verify(ctx, p.keys, raw, proxyjwt.Expect{IssuerOK: p.issuerOK, Audience: p.env.ClientID, Leeway: leeway, Now: p.now})
	if err != nil {
		return providers.ProxyResult{}, p.tokenError(err)
	}
	if ver, _ := tok.Claims["ver"].(string); ver != "2.0" {
		return providers.ProxyResult{}, backstageerr.Plain(MsgNotV2)
	}
	if err := p.principalAgrees(r, tok.Claims); err != nil {
		p.log.Warn("azureEasyAuth: the client principal headers disagree with the ID token", "err", err)
		return providers.ProxyResult{}, backstageerr.Authentication("The %s headers do not match the %s header: %v", PrincipalHeader, IDTokenHeader, err)
	}
	name, _ := tok.Claims["name"].(string)
	email, _ := tok.Claims["email"].(string)
	return providers.ProxyResult{
		Profile:      providers.Profile{Email: email, DisplayName: name},
		ProviderInfo: ProviderInfo{AccessToken: r.Header.Get(AccessTokenHeader)},
		Claims:       tok.Claims,
	}, nil
}

// unverifiedVersion is the ver claim of a token, read without verifying it.
func unverifiedVersion(raw string) (string, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", false
	}
	var c struct {
		Ver *string `json:"ver"`
	}
	if json.Unmarshal(b, &c) != nil {
		return "", false
	}
	if c.Ver == nil {
		return "", true
	}
	return *c.Ver, true
}

// issuerOK: the v2.0 issuer of the configured tenant, or, for a multi-tenant issuer,
// of the token's own tenant (never the personal-account tenant for organizations).
func (p *Provider) issuerOK(iss string, c map[string]any) bool {
	tid, _ := c["tid"].(string)
	tid = strings.ToLower(tid)
	switch p.env.Tenant {
	case "common", "organizations":
		if !guid.MatchString(tid) || (p.env.Tenant == "organizations" && tid == consumersTenant) {
			return false
		}
	default:
		if tid != p.env.Tenant {
			return false
		}
	}
	return strings.EqualFold(iss, p.env.Authority+"/"+tid+"/v2.0")
}

// tokenError maps a refused or undecided ID token: 401 naming what was wrong, or 503
// while Entra ID's keys cannot be fetched.
func (p *Provider) tokenError(err error) error {
	p.log.Debug("azureEasyAuth ID token refused", "err", err)
	return proxyjwt.AsBackstage(err, "Invalid "+IDTokenHeader+" header: ", "Entra ID signing keys could not be fetched, please try again later")
}

// principalAgrees checks the headers App Service sets beside the token, when present:
// the principal's object id (x-ms-client-principal-id, and the objectidentifier claim
// of x-ms-client-principal), its tenant, and its identity provider.
func (p *Provider) principalAgrees(r *http.Request, c map[string]any) error {
	oid, _ := c["oid"].(string)
	tid, _ := c["tid"].(string)
	if v := r.Header.Get(PrincipalIDHeader); v != "" && !strings.EqualFold(v, oid) {
		return errors.New("another object id")
	}
	if v := r.Header.Get(PrincipalIDPHeader); v != "" && v != "aad" {
		return errors.New("another identity provider")
	}
	v := r.Header.Get(PrincipalHeader)
	if v == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(v); err != nil {
			return errors.New("it is not base64")
		}
	}
	var principal struct {
		Claims []struct {
			Typ string `json:"typ"`
			Val string `json:"val"`
		} `json:"claims"`
	}
	if json.Unmarshal(b, &principal) != nil {
		return errors.New("it is not a client principal")
	}
	for _, cl := range principal.Claims {
		switch cl.Typ {
		case principalOIDClaim, "oid":
			if !strings.EqualFold(cl.Val, oid) {
				return errors.New("another object id")
			}
		case principalTenantClaim, "tid":
			if !strings.EqualFold(cl.Val, tid) {
				return errors.New("another tenant")
			}
		}
	}
	return nil
}
