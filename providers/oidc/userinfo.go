package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// claimsIDTokenWins are claims a userinfo response may not override.
var claimsIDTokenWins = map[string]bool{
	"iss": true, "sub": true, "aud": true, "nonce": true, "azp": true,
	"exp": true, "iat": true, "nbf": true, "auth_time": true, "at_hash": true, "c_hash": true,
}

// withUserinfo merges userinfo claims into the ID token claims when the IdP has a
// userinfo_endpoint. The userinfo sub must equal the ID token's (OIDC Core 5.3.4).
func (p *Provider) withUserinfo(ctx context.Context, d *idp, idClaims map[string]any, sub, accessToken string) (map[string]any, error) {
	if d.meta.UserinfoEndpoint == "" || accessToken == "" {
		return idClaims, nil
	}
	const what = "the userinfo request"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.meta.UserinfoEndpoint, nil)
	if err != nil {
		return nil, p.failed("the identity provider's userinfo_endpoint is not a URL")
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		p.log.Warn("oidc userinfo unreachable", "err", err)
		return nil, p.upstreamErr(what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, p.upstreamErr(what, err)
	}
	if resp.StatusCode != http.StatusOK {
		p.log.Warn("oidc userinfo error", "status", resp.StatusCode)
		return nil, p.failed("%s to the identity provider failed (HTTP %d)", what, resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/jwt" {
		return nil, p.failed("signed userinfo responses are not supported")
	}
	var ui map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&ui); err != nil || ui == nil {
		return nil, p.failed("%s to the identity provider returned no JSON object", what)
	}
	ui = upstream.NormalizeNumbers(ui).(map[string]any)
	if uiSub, _ := ui["sub"].(string); uiSub != sub {
		return nil, p.rejected("the userinfo subject does not match the ID token subject")
	}
	merged := make(map[string]any, len(idClaims)+len(ui))
	for k, v := range idClaims {
		merged[k] = v
	}
	for k, v := range ui {
		if !claimsIDTokenWins[k] {
			merged[k] = v
		}
	}
	return merged, nil
}

// revoke revokes a refresh token (RFC 7009) with the configured client authentication.
func (p *Provider) revoke(ctx context.Context, d *idp, token string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	switch p.cfg.TokenEndpointAuthMethod {
	case AuthMethodClientSecretPost:
		form.Set("client_id", p.cfg.ClientID)
		form.Set("client_secret", p.cfg.ClientSecret)
	case AuthMethodNone:
		form.Set("client_id", p.cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.meta.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p.cfg.TokenEndpointAuthMethod == AuthMethodClientSecretBasic {
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyBytes))
	if resp.StatusCode != http.StatusOK {
		return &revokeStatusError{status: resp.StatusCode}
	}
	return nil
}

type revokeStatusError struct{ status int }

func (e *revokeStatusError) Error() string {
	return "revocation endpoint answered HTTP " + strconv.Itoa(e.status)
}
