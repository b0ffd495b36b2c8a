package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// IDTokenVerifier verifies the ID tokens of one OpenID Connect issuer exactly as
// Provider verifies its own (lazy, retried discovery; signature against the issuer's
// JWKS with the alg allowlist; iss, aud/azp, exp/iat/nbf with the clock skew; the nonce
// in constant time; at_hash). Providers that are not OIDC providers but receive an ID
// token from a vendor's token endpoint (the oauth2engine vendors: Google, Microsoft,
// Okta, ...) use it, so that no provider trusts an ID token less strictly than this one.
type IDTokenVerifier struct{ p *Provider }

// NewIDTokenVerifier returns a verifier for cfg (after Check: MetadataURL, ClientID,
// TokenSignedResponseAlgs, ClockSkew and Timeout are used; nothing else). It does not
// touch the network.
func NewIDTokenVerifier(cfg Config, deps providers.Deps) (*IDTokenVerifier, error) {
	p, err := New(cfg, deps)
	if err != nil {
		return nil, err
	}
	return &IDTokenVerifier{p: p}, nil
}

// NewIDTokenVerifierFor is NewIDTokenVerifier for an issuer given by its metadataUrl
// (the issuer, or its discovery URL, as oidc's metadataUrl), the client id the tokens
// are issued to, the accepted algorithms (nil: RS256) and the per-call timeout (0:
// DefaultTimeout); clock skew is DefaultClockSkew.
func NewIDTokenVerifierFor(metadataURL, clientID string, algs []string, timeout time.Duration, deps providers.Deps) (*IDTokenVerifier, error) {
	disc, iss, err := DiscoveryURL(metadataURL)
	if err != nil {
		return nil, err
	}
	cfg := NewConfig()
	cfg.MetadataURL, cfg.DiscoveryURL, cfg.ExpectedIssuer, cfg.ClientID = metadataURL, disc, iss, clientID
	cfg.TokenSignedResponseAlgs = []string{"RS256"}
	if len(algs) > 0 {
		cfg.TokenSignedResponseAlgs = algs
	}
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	return NewIDTokenVerifier(*cfg, deps)
}

// VerifyIDToken verifies raw and returns its claims. nonce "" skips the nonce check
// (refresh); accessToken "" skips at_hash. A refused token is an error whose message is
// safe to show (it names what was wrong, never the token); a failure to load the
// issuer's configuration is a Backstage error of its own.
func (v *IDTokenVerifier) VerifyIDToken(ctx context.Context, raw, nonce, accessToken string) (map[string]any, error) {
	if raw == "" {
		return nil, errors.New("no ID token")
	}
	d, err := v.p.discover(ctx)
	if err != nil {
		return nil, err
	}
	vt, err := v.p.verifyIDToken(ctx, d, raw, checks{nonce: nonce}, accessToken)
	if err != nil {
		return nil, err
	}
	return vt.claims, nil
}

// IssuerOptions adapt the issuer checks to a vendor whose issuer is not spelled as the
// metadata URL names it. Every other check stays as strict as for any issuer.
type IssuerOptions struct {
	// Aliases are other spellings of the issuer a token's iss may carry (Google issues
	// both "https://accounts.google.com" and "accounts.google.com").
	Aliases []string
	// Announced accepts a discovery document whose issuer is not the metadata URL's
	// when it returns true for it (Entra ID: the document of a tenant named by its
	// domain announces the tenant's GUID; common and organizations announce a
	// template). nil: the issuer must be the metadata URL's.
	Announced func(issuer string) bool
	// TenantClaim names the token claim that "{tenantid}" in the announced issuer
	// stands for (Entra ID's tid): the token's iss must be the announced issuer with
	// the token's own claim put in. A token without a usable claim is refused.
	TenantClaim string
}

// tenantPlaceholder is how Entra ID's multi-tenant discovery documents template the
// issuer.
const tenantPlaceholder = "{tenantid}"

// WithIssuers sets the vendor's issuer rules; call it before the verifier is used.
func (v *IDTokenVerifier) WithIssuers(o IssuerOptions) *IDTokenVerifier {
	o.Aliases = slices.Clone(o.Aliases)
	v.p.issuers = &o
	return v
}

// vendorIssuer reports whether the vendor's IssuerOptions accept a discovery document
// announcing another issuer than the expected one.
func (p *Provider) vendorIssuer(announced string) bool {
	return p.issuers != nil && p.issuers.Announced != nil && p.issuers.Announced(announced)
}

// tokenIssuerOK reports whether an ID token's iss names the issuer the discovery
// document announced: exactly, or as the vendor's IssuerOptions allow.
func (p *Provider) tokenIssuerOK(announced, iss string, claims map[string]any) bool {
	o := p.issuers
	if o == nil {
		return iss == announced
	}
	want := announced
	if o.TenantClaim != "" && strings.Contains(announced, tenantPlaceholder) {
		tid, _ := claims[o.TenantClaim].(string)
		if !plainTenantID(tid) {
			return false
		}
		want = strings.ReplaceAll(announced, tenantPlaceholder, tid)
	}
	return iss == want || slices.Contains(o.Aliases, iss)
}

// plainTenantID accepts a tenant claim that can stand in a URL path segment as it is
// (letters, digits, "-" and "."), so that no claim can rewrite the issuer's shape.
func plainTenantID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
