package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

const (
	minDiscoveryBackoff = time.Second
	maxDiscoveryBackoff = 30 * time.Second
	// jwksMaxAge bounds how long cached IdP keys are trusted without a refetch, so a key
	// the IdP removed stops verifying sealed ID tokens within this time.
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
	keys     *refreshingKeySet
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
		p.log.Warn("oidc discovery failed", "url", p.cfg.DiscoveryURL, "err", err)
		return nil, p.upstreamErr(what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, p.upstreamErr(what, err)
	}
	if resp.StatusCode != http.StatusOK {
		p.log.Warn("oidc discovery failed", "url", p.cfg.DiscoveryURL, "status", resp.StatusCode)
		return nil, p.failed("%s failed (HTTP %d)", what, resp.StatusCode)
	}
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		p.log.Warn("oidc discovery document is not JSON", "url", p.cfg.DiscoveryURL, "err", err)
		return nil, p.failed("%s failed (the document is not valid JSON)", what)
	}
	if strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(p.cfg.ExpectedIssuer, "/") {
		p.log.Error("oidc discovery issuer mismatch", "expected", p.cfg.ExpectedIssuer, "announced", m.Issuer)
		return nil, p.failed("%s failed: the document's issuer %q does not match the configured %q", what, upstream.Printable(m.Issuer, 200), p.cfg.ExpectedIssuer)
	}
	for name, v := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint, "jwks_uri": m.JWKSURI} {
		if v == "" {
			return nil, p.failed("%s failed: the document has no %s", what, name)
		}
	}
	d := &idp{meta: m, pkce: slices.Contains(m.CodeChallengeMethodsSupported, "S256")}
	d.keys = newRefreshingKeySet(p.jwksClient(), m.JWKSURI, p.now)
	// go-oidc checks the signature and the alg allowlist here; iss/aud/exp/iat/nonce are
	// checked in verifyIDToken with our clock skew and messages.
	d.verifier = gooidc.NewVerifier(m.Issuer, d.keys, &gooidc.Config{
		SupportedSigningAlgs: p.cfg.TokenSignedResponseAlgs,
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
		SkipIssuerCheck:      true,
	})
	p.log.Info("oidc discovery loaded", "issuer", m.Issuer, "pkce", d.pkce, "grantTypes", m.GrantTypesSupported)
	return d, nil
}

// refreshingKeySet is go-oidc's RemoteKeySet (refetch once on an unknown kid, concurrent
// refetches merged) replaced by a fresh one after jwksMaxAge, so keys the IdP removed
// stop verifying.
type refreshingKeySet struct {
	ctx  context.Context
	url  string
	now  func() time.Time
	mu   sync.Mutex
	set  *gooidc.RemoteKeySet
	born time.Time
	gen  *keyGeneration // replaced with set
}

func newRefreshingKeySet(client *http.Client, url string, now func() time.Time) *refreshingKeySet {
	return &refreshingKeySet{ctx: gooidc.ClientContext(context.Background(), client), url: url, now: now}
}

// jwksClient is the provider's client with a transport that makes every unusable JWKS
// answer a transport error (see jwksTransport).
func (p *Provider) jwksClient() *http.Client {
	c := *p.client
	c.Transport = &jwksTransport{base: transportOf(p.client)}
	return &c
}

// generation returns the current key-set generation, or nil when the set is due for a
// refetch (so no cached verification is trusted past jwksMaxAge).
func (k *refreshingKeySet) generation() *keyGeneration {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set == nil || k.now().Sub(k.born) > jwksMaxAge || k.now().Before(k.born) {
		return nil
	}
	return k.gen
}

func (k *refreshingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	k.mu.Lock()
	if k.set == nil || k.now().Sub(k.born) > jwksMaxAge || k.now().Before(k.born) {
		k.set, k.born, k.gen = gooidc.NewRemoteKeySet(k.ctx, k.url), k.now(), &keyGeneration{}
	}
	set := k.set
	k.mu.Unlock()
	payload, err := set.VerifySignature(ctx, jwt)
	if err != nil {
		// The only HTTP request here is the JWKS fetch: a *url.Error is a fetch failure
		// (the JWKS transport makes bad answers transport errors).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = &keyFetchError{cause: err}
		} else {
			err = fmt.Errorf("verify signature: %w", err)
		}
	}
	reportKeyCheck(ctx, err)
	if err != nil {
		return nil, err
	}
	return payload, nil
}
