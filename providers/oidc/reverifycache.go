package oidc

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// reverifyCacheSize bounds the sessions whose ID-token verification is remembered.
const reverifyCacheSize = 10000

// reverified is a sealed session's ID token that passed verification (all but the
// expiry, which callers compare on every use) with one generation of the IdP's key set.
type reverified struct {
	generation *keyfetch.Generation
	claims     map[string]any
	expiry     time.Time
}

// reverifyCache remembers ID tokens re-verified on refresh, so that a session
// refreshed again and again (every page load, every tab) costs one RSA verification per
// key-set generation instead of one per request. A hit is only trusted while the key set
// that verified it is still the current one (keyfetch.Fetcher.Current: a refetch, every
// jwksMaxAge or on an unknown kid, makes a new one); expiry is checked on every call.
type reverifyCache struct {
	c *lru.Cache[string, reverified]
}

func newReverifyCache() *reverifyCache {
	c, _ := lru.New[string, reverified](reverifyCacheSize)
	return &reverifyCache{c: c}
}

// get returns the verification of token, if one is remembered and the key set that did
// it is still current.
func (rc *reverifyCache) get(token string, keys *keyfetch.Fetcher) (reverified, bool) {
	v, ok := rc.c.Get(token)
	if !ok || !keys.Current(v.generation) {
		return reverified{}, false
	}
	return v, true
}

func (rc *reverifyCache) put(token string, v reverified) { rc.c.Add(token, v) }
