package oidc

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// reverifyCacheSize bounds the sessions whose ID-token verification is remembered.
const reverifyCacheSize = 10000

// reverified is a sealed session's ID token that passed full verification with one
// generation of the IdP's key set.
type reverified struct {
	generation *keyGeneration
	claims     map[string]any
	expiry     time.Time
}

// keyGeneration identifies one fetched-and-cached IdP key set: a refetch (every
// jwksMaxAge, or on an unknown kid) makes a new one.
type keyGeneration struct{}

// reverifyCache remembers ID tokens re-verified on refresh, so that a session
// refreshed again and again (every page load, every tab) costs one RSA verification per
// key-set generation instead of one per request. A hit is only trusted while the key set
// that verified it is still the current one; expiry is checked on every call.
type reverifyCache struct {
	c *lru.Cache[string, reverified]
}

func newReverifyCache() *reverifyCache {
	c, _ := lru.New[string, reverified](reverifyCacheSize)
	return &reverifyCache{c: c}
}

// get returns the verification of token by generation gen; a nil gen (the key set is
// due for a refetch) never hits.
func (rc *reverifyCache) get(token string, gen *keyGeneration) (reverified, bool) {
	if gen == nil {
		return reverified{}, false
	}
	v, ok := rc.c.Get(token)
	if !ok || v.generation != gen {
		return reverified{}, false
	}
	return v, true
}

func (rc *reverifyCache) put(token string, v reverified) { rc.c.Add(token, v) }
