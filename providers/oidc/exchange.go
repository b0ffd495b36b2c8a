package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// RFC 8693 token exchange, for vendors whose IdP trades the sign-in's access token for
// a token meant for another audience (Pinniped's cluster-scoped ID tokens).

// RFC 8693 names.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
)

// ExchangedToken is a verified token an exchange issued.
type ExchangedToken struct {
	Raw    string
	Expiry time.Time
	Claims map[string]any
}

// ExchangeForJWT exchanges subjectToken (an access token of this client) at the
// token endpoint for a JWT for audience (requested_token_type jwt), with the client's
// configured authentication, and verifies what comes back as strictly as an ID token:
// signature with the issuer's keys and algorithms, iss, aud containing audience, azp
// (when present) this client, exp/iat/nbf with the clock skew, and sub equal to
// subject (the signed-in user). Errors are safe to show: they name HTTP statuses, OAuth
// error codes and failed checks, never a body or token. An IdP that cannot answer (no
// answer, a timeout, a 5xx or 429) is a ServiceUnavailableError with a retry hint.
func (p *Provider) ExchangeForJWT(ctx context.Context, subjectToken, audience, subject string) (*ExchangedToken, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	form := url.Values{
		"grant_type":           {GrantTypeTokenExchange},
		"subject_token":        {subjectToken},
		"audience":             {audience},
		"subject_token_type":   {TokenTypeAccessToken},
		"requested_token_type": {TokenTypeJWT},
	}
	if p.cfg.TokenEndpointAuthMethod != AuthMethodClientSecretBasic {
		form.Set("client_id", p.cfg.ClientID)
		if p.cfg.TokenEndpointAuthMethod == AuthMethodClientSecretPost {
			form.Set("client_secret", p.cfg.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.meta.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("the token endpoint is not a URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if p.cfg.TokenEndpointAuthMethod == AuthMethodClientSecretBasic {
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		// An outage decides nothing about the session: a ServiceUnavailableError with a
		// retry hint (a refresh then answers 503, not the 401 that signs the user out).
		p.log.Warn("oidc token exchange unreachable", "err", err)
		if upstream.IsTimeout(err) || ctx.Err() != nil {
			return nil, p.unavailable(fmt.Errorf("the token exchange timed out after %s", p.cfg.Timeout), outageRetryAfter)
		}
		return nil, p.unavailable(errors.New("the identity provider could not be reached"), outageRetryAfter)
	}
	defer resp.Body.Close()
	body, err := upstream.ReadLimited(resp.Body, maxBodyBytes)
	if err != nil {
		return nil, errors.New("the answer could not be read")
	}
	var answer struct {
		AccessToken     string `json:"access_token"`
		IssuedTokenType string `json:"issued_token_type"`
		Error           string `json:"error"`
	}
	jsonErr := json.NewDecoder(bytes.NewReader(body)).Decode(&answer)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		detail := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if code := upstream.ErrorCode(answer.Error); jsonErr == nil && code != "" {
			detail += " " + code
		}
		p.log.Warn("oidc token exchange refused", "status", resp.StatusCode, "error", upstream.ErrorCode(answer.Error))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return nil, p.unavailable(errors.New("the token exchange failed ("+detail+")"), outageRetryAfter)
		}
		return nil, errors.New(detail)
	}
	if jsonErr != nil || answer.AccessToken == "" {
		return nil, errors.New("the answer has no access_token")
	}
	if answer.IssuedTokenType != "" && answer.IssuedTokenType != TokenTypeJWT {
		return nil, errors.New("the issued token is not a JWT")
	}
	return p.verifyExchanged(ctx, d, answer.AccessToken, audience, subject)
}

func (p *Provider) verifyExchanged(ctx context.Context, d *idp, raw, audience, subject string) (*ExchangedToken, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, errors.New("the issued token is not a signed JWT")
	}
	if alg := headerAlg(raw); !slices.Contains(p.cfg.TokenSignedResponseAlgs, alg) {
		return nil, fmt.Errorf("the issued token is signed with %q, which is not an accepted algorithm", upstream.Printable(alg, 20))
	}
	tok, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		p.log.Warn("oidc exchanged token signature check failed", "err", err)
		return nil, errors.New("the issued token's signature could not be verified with the identity provider's keys")
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payloadOf(raw)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, errors.New("the issued token's claims are not a JSON object")
	}
	claims = upstream.NormalizeNumbers(claims).(map[string]any)
	now, skew := p.now(), p.cfg.ClockSkew
	azp, _ := claims["azp"].(string)
	_, hasExp := claims["exp"]
	switch {
	case !p.tokenIssuerOK(d.meta.Issuer, tok.Issuer, claims):
		return nil, errors.New("the issued token's issuer is not the identity provider")
	case !slices.Contains(tok.Audience, audience):
		return nil, errors.New("the issued token is not for the requested audience")
	case azp != "" && azp != p.cfg.ClientID:
		return nil, errors.New("the issued token was issued to another client (azp)")
	case subject == "" || tok.Subject != subject:
		return nil, errors.New("the issued token is for another subject")
	case !hasExp:
		return nil, errors.New("the issued token has no expiry")
	case !now.Before(tok.Expiry.Add(skew)):
		return nil, errors.New("the issued token has expired")
	case tok.IssuedAt.After(now.Add(skew)):
		return nil, errors.New("the issued token was issued in the future (iat); check the clocks")
	}
	if nbf, ok := numericClaim(claims, "nbf"); ok && time.Unix(nbf, 0).After(now.Add(skew)) {
		return nil, errors.New("the issued token is not valid yet (nbf)")
	}
	return &ExchangedToken{Raw: raw, Expiry: tok.Expiry, Claims: claims}, nil
}
