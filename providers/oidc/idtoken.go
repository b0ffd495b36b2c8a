package oidc

import (
	"context"
	"errors"
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
	vt, err := v.p.verifyIDToken(ctx, d, raw, nonceCheck{want: nonce}, accessToken)
	if err != nil {
		return nil, err
	}
	return vt.claims, nil
}
