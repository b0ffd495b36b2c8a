package cfaccess

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// identityCache holds get-identity answers by subject, each for the token it was
// fetched with: Backstage reuses one per subject for any later token (until the cache
// service's default TTL), so a new session's groups, a revocation or another token's
// claims went unseen. Here a different token fetches again, and an answer is reused
// for at most identityTTL and never beyond its token's exp.
type identityCache struct {
	entries *lru.Cache[string, *cachedIdentity]
	flight  singleflight.Group
}

type cachedIdentity struct {
	token [sha256.Size]byte
	id    *identity
	until time.Time
}

func newIdentityCache(size int) *identityCache {
	c, _ := lru.New[string, *cachedIdentity](size)
	return &identityCache{entries: c}
}

func (c *identityCache) get(subject string, token [sha256.Size]byte, now time.Time) (*identity, bool) {
	e, ok := c.entries.Get(subject)
	if !ok || e.token != token || !now.Before(e.until) {
		return nil, false
	}
	return e.id, true
}

func (c *identityCache) put(subject string, e *cachedIdentity) { c.entries.Add(subject, e) }

// userIdentity is the user's Cloudflare Access identity for jwt: cached, else
// get-identity (concurrent requests with one token share one call).
func (p *Provider) userIdentity(ctx context.Context, subject, jwt string, expiry time.Time) (*identity, error) {
	sum := sha256.Sum256([]byte(jwt))
	if id, ok := p.cache.get(subject, sum, p.now()); ok {
		return id, nil
	}
	v, err, _ := p.cache.flight.Do(string(sum[:]), func() (any, error) {
		id, err := p.fetchIdentity(context.WithoutCancel(ctx), jwt)
		if err != nil {
			return nil, err
		}
		now := p.now()
		p.cache.put(subject, &cachedIdentity{token: sum, id: id, until: minTime(now.Add(identityTTL), expiry)})
		return id, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*identity), nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

const identityFailed = "Failed to populate access identity information"

// fetchIdentity asks get-identity with the token as Backstage sends it (the header and
// the cookie). Cloudflare's own refusal is a 401; an outage, an error answer or an
// answer that is not an identity is a 503 (the operator's log gets the detail, the
// user never sees an upstream body or address).
func (p *Provider) fetchIdentity(ctx context.Context, jwt string) (*identity, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.identityURL, nil)
	if err != nil {
		return nil, fmt.Errorf("cfaccess: get-identity request: %w", err)
	}
	// Backstage sends the token under the configured names only; Cloudflare reads its
	// own, so those are sent too when the configured ones differ.
	req.Header.Set(p.cfg.JWTHeaderName, jwt)
	cookie := p.cfg.AuthorizationCookieName + "=" + jwt
	if !strings.EqualFold(p.cfg.JWTHeaderName, DefaultJWTHeaderName) {
		req.Header.Set(DefaultJWTHeaderName, jwt)
	}
	if p.cfg.AuthorizationCookieName != DefaultAuthorizationCookieName {
		cookie += "; " + DefaultAuthorizationCookieName + "=" + jwt
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		what := "could not be reached"
		if upstream.IsTimeout(err) {
			what = "did not answer in time"
		}
		return nil, p.unavailable(what, "get-identity "+p.identityURL+": "+err.Error())
	}
	defer resp.Body.Close()
	body, rerr := upstream.ReadLimited(resp.Body, maxIdentityBytes)
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, p.unavailable("answered HTTP "+strconv.Itoa(resp.StatusCode), "get-identity "+p.identityURL+" answered HTTP "+strconv.Itoa(resp.StatusCode))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		p.log.Info("cfaccess get-identity refused the token", "status", resp.StatusCode)
		return nil, backstageerr.Authentication("%s: Cloudflare Access did not confirm the identity (HTTP %d)", identityFailed, resp.StatusCode)
	case rerr != nil:
		return nil, p.unavailable("answered an unreadable identity", "get-identity "+p.identityURL+": "+rerr.Error())
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, p.unavailable("answered something that is not an identity", "get-identity "+p.identityURL+" answered a body that is not a JSON object")
	}
	raw, err := jsrules.AppendJSON(nil, body)
	if err != nil {
		return nil, p.unavailable("answered something that is not an identity", "get-identity "+p.identityURL+": "+err.Error())
	}
	m = upstream.NormalizeNumbers(m).(map[string]any)
	email, _ := m["email"].(string)
	name, _ := m["name"].(string)
	return &identity{raw: raw, email: email, name: name, claims: m}, nil
}

// unavailable is the 503 of an identity that could not be fetched; detail goes to the
// log only.
func (p *Provider) unavailable(what, detail string) error {
	return &backstageerr.Error{Name: backstageerr.NameServiceUnavailable,
		Message: identityFailed + ": Cloudflare Access " + what + ", please try again later", Detail: detail}
}
