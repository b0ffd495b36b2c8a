package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/outage"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

const (
	minDiscoveryBackoff = time.Second
	maxDiscoveryBackoff = 30 * time.Second
	// jwksMaxAge bounds how long cached IdP keys are trusted without a refetch, so a key
	// the IdP removed stops verifying sealed ID tokens within this time (while the IdP
	// is down the last good keys stay in use: see keyfetch).
	jwksMaxAge   = 5 * time.Minute
	maxBodyBytes = 1 << 20
)

// metadata is the part of the discovery document this provider uses.
type metadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	IDTokenSigningAlgs            []string `json:"id_token_signing_alg_values_supported"`
}

// idp is a loaded discovery document plus the verifier built from it.
type idp struct {
	meta     metadata
	pkce     bool
	keys     *keyfetch.Fetcher
	verifier *gooidc.IDTokenVerifier
}

// discoveryState loads discovery lazily: New never touches the network, a failure is
// retried on a later call after a backoff, and concurrent callers share one fetch.
type discoveryState struct {
	mu       sync.Mutex
	loaded   *idp
	lastErr  error
	retryAt  time.Time
	backoff  time.Duration
	inflight *discoveryCall
	// outage logs failed loads once per outage.
	outage outage.Log
}

// retryIn is how long until discovery is tried again (at least a second).
func (s *discoveryState) retryIn(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.retryAt.Sub(now), time.Second)
}

type discoveryCall struct {
	done chan struct{}
	res  *idp
	err  error
}

func (p *Provider) discover(ctx context.Context) (*idp, error) {
	s := &p.disc
	s.mu.Lock()
	if s.loaded != nil {
		d := s.loaded
		s.mu.Unlock()
		return d, nil
	}
	if s.lastErr != nil && p.now().Before(s.retryAt) {
		err := s.lastErr
		s.mu.Unlock()
		return nil, err
	}
	call := s.inflight
	if call == nil {
		call = &discoveryCall{done: make(chan struct{})}
		s.inflight = call
		// The fetch outlives any one caller's cancellation; it is bounded by the timeout.
		go func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.Timeout)
			defer cancel()
			res, err := p.fetchDiscovery(fctx)
			s.mu.Lock()
			if err == nil {
				s.loaded, s.lastErr, s.backoff = res, nil, 0
				s.outage.Recovered(p.log, p.now(), "oidc discovery loaded after failures", "url", p.cfg.DiscoveryURL)
			} else {
				if s.backoff == 0 {
					s.backoff = minDiscoveryBackoff
				} else {
					s.backoff = min(2*s.backoff, maxDiscoveryBackoff)
				}
				s.lastErr, s.retryAt = err, p.now().Add(s.backoff)
			}
			s.inflight = nil
			s.mu.Unlock()
			call.res, call.err = res, err
			close(call.done)
		}()
	}
	s.mu.Unlock()
	select {
	case <-call.done:
		return call.res, call.err
	case <-ctx.Done():
		return nil, p.upstreamErr("loading the identity provider's OpenID configuration", ctx.Err())
	}
}

func (p *Provider) fetchDiscovery(ctx context.Context) (*idp, error) {
	const what = "loading the identity provider's OpenID configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.DiscoveryURL, nil)
	if err != nil {
		return nil, p.failed("%s failed (invalid URL)", what)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		p.disc.outage.Failed(p.log, p.now(), "oidc discovery failed", "url", p.cfg.DiscoveryURL, "err", err)
		return nil, p.upstreamErr(what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, p.upstreamErr(what, err)
	}
	if resp.StatusCode != http.StatusOK {
		p.disc.outage.Failed(p.log, p.now(), "oidc discovery failed", "url", p.cfg.DiscoveryURL, "status", resp.StatusCode)
		return nil, p.failed("%s failed (HTTP %d)", what, resp.StatusCode)
	}
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		p.disc.outage.Failed(p.log, p.now(), "oidc discovery document is not JSON", "url", p.cfg.DiscoveryURL, "err", err)
		return nil, p.failed("%s failed (the document is not valid JSON)", what)
	}
	if strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(p.cfg.ExpectedIssuer, "/") && !p.vendorIssuer(m.Issuer) {
		p.log.Error("oidc discovery issuer mismatch", "expected", p.cfg.ExpectedIssuer, "announced", m.Issuer)
		return nil, p.failed("%s failed: the document's issuer %q does not match the configured %q", what, upstream.Printable(m.Issuer, 200), p.cfg.ExpectedIssuer)
	}
	for name, v := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint, "jwks_uri": m.JWKSURI} {
		if v == "" {
			return nil, p.failed("%s failed: the document has no %s", what, name)
		}
	}
	d := &idp{meta: m, pkce: slices.Contains(m.CodeChallengeMethodsSupported, "S256")}
	keys, err := keyfetch.NewJWKS(m.JWKSURI, keyfetch.Options{
		Client: p.client, Now: p.now, Logger: p.log, Name: "oidc " + m.Issuer,
		Timeout: p.cfg.Timeout, MaxAge: jwksMaxAge, MaxBytes: maxBodyBytes, Algs: p.cfg.TokenSignedResponseAlgs,
	})
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	d.keys = keys
	// go-oidc parses the token and checks the alg allowlist here, the fetcher the
	// signature and the key; iss/aud/exp/iat/nonce are checked in verifyIDToken with our
	// clock skew and messages.
	d.verifier = gooidc.NewVerifier(m.Issuer, keySet{keys}, &gooidc.Config{
		SupportedSigningAlgs: p.cfg.TokenSignedResponseAlgs,
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
		SkipIssuerCheck:      true,
	})
	p.log.Info("oidc discovery loaded", "issuer", m.Issuer, "pkce", d.pkce, "grantTypes", m.GrantTypesSupported)
	return d, nil
}
