package oidc

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// idTokenError says why an ID token was refused, in words safe to show a user.
type idTokenError struct {
	reason  string
	expired bool
	cause   error
}

func (e *idTokenError) Error() string { return e.reason }
func (e *idTokenError) Unwrap() error { return e.cause }

func badToken(format string, args ...any) *idTokenError {
	return &idTokenError{reason: fmt.Sprintf(format, args...)}
}

// verifiedToken is a verified ID token and its claims.
type verifiedToken struct {
	raw     string
	claims  map[string]any
	subject string
	expiry  time.Time
}

// nonceCheck says how the nonce claim is checked.
type nonceCheck struct {
	// want is the expected nonce; when empty the nonce is not checked (refresh).
	want string
}

// verifyIDToken checks signature and alg (go-oidc with our allowlist), then iss, aud,
// azp, exp/nbf/iat with the configured clock skew, and the nonce in constant time.
func (p *Provider) verifyIDToken(ctx context.Context, d *idp, raw string, nc nonceCheck, accessToken string) (*verifiedToken, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, badToken("the ID token is not a signed JWT")
	}
	alg := headerAlg(raw)
	if !slices.Contains(p.cfg.TokenSignedResponseAlgs, alg) {
		return nil, badToken("the ID token is signed with %q, which is not an accepted algorithm (accepted: %s)", upstream.Printable(alg, 20), strings.Join(p.cfg.TokenSignedResponseAlgs, ", "))
	}
	vctx, kc := withKeyCheck(ctx)
	tok, err := d.verifier.Verify(vctx, raw)
	if err != nil {
		p.log.Warn("oidc id token signature check failed", "err", err)
		var fetch *keyFetchError
		switch {
		case ctx.Err() != nil:
			return nil, &idTokenError{reason: "the identity provider's signing keys could not be fetched in time", cause: err}
		case kc.done && kc.err == nil:
			// The signature is valid and go-oidc checks nothing but the claims' shape
			// after it (issuer, audience and expiry checks are ours).
			return nil, &idTokenError{reason: "the ID token claims are malformed", cause: err}
		case errors.As(kc.err, &fetch):
			return nil, &idTokenError{reason: "the identity provider's signing keys could not be fetched", cause: kc.err}
		}
		return nil, &idTokenError{reason: "the ID token signature could not be verified with the identity provider's current keys", cause: err}
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payloadOf(raw)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, badToken("the ID token claims are not a JSON object")
	}
	claims = upstream.NormalizeNumbers(claims).(map[string]any)

	if tok.Issuer != d.meta.Issuer {
		return nil, badToken("the ID token issuer %q is not the identity provider %q", upstream.Printable(tok.Issuer, 200), d.meta.Issuer)
	}
	if tok.Subject == "" {
		return nil, badToken("the ID token has no subject")
	}
	if !slices.Contains(tok.Audience, p.cfg.ClientID) {
		return nil, badToken("the ID token audience does not include this client")
	}
	azp, _ := claims["azp"].(string)
	if len(tok.Audience) > 1 && azp == "" {
		return nil, badToken("the ID token has several audiences but no authorized party (azp)")
	}
	if azp != "" && azp != p.cfg.ClientID {
		return nil, badToken("the ID token was issued to another client (azp)")
	}
	now := p.now()
	skew := p.cfg.ClockSkew
	if _, ok := claims["exp"]; !ok {
		return nil, badToken("the ID token has no expiry")
	}
	if !now.Before(tok.Expiry.Add(skew)) {
		return nil, &idTokenError{reason: "the ID token has expired", expired: true}
	}
	if _, ok := claims["iat"]; !ok {
		return nil, badToken("the ID token has no issue time (iat)")
	}
	if tok.IssuedAt.After(now.Add(skew)) {
		return nil, badToken("the ID token was issued in the future (iat); check the clocks")
	}
	if nbf, ok := numericClaim(claims, "nbf"); ok && time.Unix(nbf, 0).After(now.Add(skew)) {
		return nil, badToken("the ID token is not valid yet (nbf)")
	}
	if nc.want != "" {
		got, _ := claims["nonce"].(string)
		if got == "" {
			return nil, badToken("the ID token has no nonce")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(nc.want)) != 1 {
			return nil, badToken("the ID token nonce does not match this sign-in")
		}
	}
	if tok.AccessTokenHash != "" && accessToken != "" {
		if err := tok.VerifyAccessToken(accessToken); err != nil {
			return nil, badToken("the access token does not match the ID token's at_hash")
		}
	}
	return &verifiedToken{raw: raw, claims: claims, subject: tok.Subject, expiry: tok.Expiry}, nil
}

var _ gooidc.KeySet = (*refreshingKeySet)(nil)

func headerAlg(raw string) string {
	h, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw[:strings.IndexByte(raw, '.')], "="))
	if err != nil {
		return ""
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(h, &hdr) != nil {
		return ""
	}
	return hdr.Alg
}

func payloadOf(raw string) []byte {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	return b
}

// unverifiedClaims decodes a JWT payload without checking it. Only for tokens that came
// out of a session the server sealed (and that were verified when stored).
func unverifiedClaims(raw string) map[string]any {
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payloadOf(raw)))
	dec.UseNumber()
	if dec.Decode(&claims) != nil || claims == nil {
		return map[string]any{}
	}
	return upstream.NormalizeNumbers(claims).(map[string]any)
}

func numericClaim(claims map[string]any, key string) (int64, bool) {
	switch n := claims[key].(type) {
	case int64:
		return n, true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}
