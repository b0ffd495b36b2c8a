package cfaccess

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/proxyjwt"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// Provider is the built Cloudflare Access provider.
type Provider struct {
	cfg           Config
	issuer        string
	identityURL   string
	keys          *keyfetch.Fetcher
	client        *http.Client
	now           func() time.Time
	log           *slog.Logger
	serviceTokens map[string]string
	cache         *identityCache
}

var _ providers.ProxyProvider = (*Provider)(nil)

// ProviderInfo is Backstage's providerInfo: the whole result plus the token, in its
// key order.
type ProviderInfo struct {
	// Claims are the verified token's claims (of this token, not of the first one the
	// identity was fetched for, as Backstage's cache gives).
	Claims json.RawMessage `json:"claims"`
	// CFIdentity is get-identity's answer, or the service token's made-up identity.
	CFIdentity json.RawMessage `json:"cfIdentity"`
	// ExpiresInSeconds is exp - iat (the token's lifetime, as Backstage computes it;
	// null when iat is absent).
	ExpiresInSeconds *int64 `json:"expiresInSeconds"`
	Token            string `json:"token"`
}

// identity is the part of a cfIdentity the profile is made of.
type identity struct {
	raw   json.RawMessage
	email string
	name  string
	// claims is raw decoded, for the resolvers.
	claims map[string]any
}

// AuthenticateRequest implements providers.ProxyProvider.
func (p *Provider) AuthenticateRequest(ctx context.Context, r *http.Request) (providers.ProxyResult, error) {
	jwt := r.Header.Get(p.cfg.JWTHeaderName)
	if jwt == "" {
		if c, err := r.Cookie(p.cfg.AuthorizationCookieName); err == nil {
			jwt = c.Value
		}
	}
	if jwt == "" {
		return providers.ProxyResult{}, backstageerr.Authentication("Missing %s and %s from Cloudflare Access", p.cfg.JWTHeaderName, p.cfg.AuthorizationCookieName)
	}
	tok, err := proxyjwt.Verify(ctx, p.keys, jwt, proxyjwt.Expect{Issuer: p.issuer, Audience: p.cfg.Audience, Now: p.now})
	if err != nil {
		return providers.ProxyResult{}, p.tokenError(err)
	}
	sub, _ := tok.Claims["sub"].(string)
	isServiceToken := sub == ""
	subject := sub
	if isServiceToken {
		subject, _ = tok.Claims["common_name"].(string)
	}
	if subject == "" {
		return providers.ProxyResult{}, backstageerr.Authentication("Missing both sub and common_name from Cloudflare Access JWT")
	}
	var id *identity
	if isServiceToken {
		email, ok := p.serviceTokens[subject]
		if !ok {
			return providers.ProxyResult{}, backstageerr.Authentication("%s is not a permitted Service Token.", subject)
		}
		id = serviceIdentity(subject, email)
	} else if id, err = p.userIdentity(ctx, subject, jwt, tok.Expiry); err != nil {
		return providers.ProxyResult{}, err
	}
	if email, _ := tok.Claims["email"].(string); !isServiceToken && email != "" && !strings.EqualFold(email, id.email) {
		p.log.Warn("cfaccess get-identity email differs from the token's", "subject", subject)
		return providers.ProxyResult{}, backstageerr.Authentication("Cloudflare Access JWT email does not match the Cloudflare Access identity")
	}
	claimsJSON, err := jsrules.AppendJSON(nil, tok.Payload)
	if err != nil {
		return providers.ProxyResult{}, backstageerr.Authentication("Cloudflare Access JWT is invalid: the token's claims are not JSON")
	}
	info := ProviderInfo{Claims: claimsJSON, CFIdentity: id.raw, Token: jwt}
	exp, okE := proxyjwt.Int(tok.Claims, "exp")
	iat, okI := proxyjwt.Int(tok.Claims, "iat")
	if okE && okI {
		d := exp - iat
		info.ExpiresInSeconds = &d
	}
	claims := make(map[string]any, len(tok.Claims)+1)
	for k, v := range tok.Claims {
		claims[k] = v
	}
	claims["cfIdentity"] = id.claims
	return providers.ProxyResult{
		Profile:      providers.Profile{Email: id.email, DisplayName: id.name},
		ProviderInfo: info,
		Claims:       claims,
	}, nil
}

// tokenError maps a refused or undecided token to the answer: 401 naming what was
// wrong, or 503 while the team's keys cannot be fetched.
func (p *Provider) tokenError(err error) error {
	p.log.Debug("cfaccess token refused", "err", err)
	return proxyjwt.AsBackstage(err, "Cloudflare Access JWT is invalid: ", "Cloudflare Access signing keys could not be fetched, please try again later")
}

// serviceIdentity is Backstage's identity of a service token.
func serviceIdentity(commonName, email string) *identity {
	m := map[string]any{"id": commonName, "name": "Bot", "email": email, "groups": []any{}}
	raw, _ := jsrules.Marshal(struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Email  string `json:"email"`
		Groups []any  `json:"groups"`
	}{commonName, "Bot", email, []any{}})
	return &identity{raw: raw, email: email, name: "Bot", claims: m}
}
