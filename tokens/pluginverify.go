package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// MsgFailedPluginTokenVerify is the error message of a plugin token that does not verify.
const MsgFailedPluginTokenVerify = "Failed plugin token verification"

// SignatureVerifier checks a compact JWS against the keys one plugin publishes and
// returns its payload (providers/keyfetch's Fetcher, over the plugin's JWKS).
type SignatureVerifier interface {
	VerifySignature(ctx context.Context, raw string) ([]byte, error)
}

// maxPluginKeySources bounds the plugins whose key sources are kept: the plugin id
// comes from a token not yet verified.
const maxPluginKeySources = 64

// PluginTokenVerifier verifies plugin (service-to-service) tokens sent to this plugin,
// as backend-defaults' PluginTokenHandler does: typ vnd.backstage.plugin, signed with a
// key the calling plugin (sub) publishes at its /.backstage/auth/v1/jwks.json (found
// through discovery by KeysFor), aud this plugin, exp in the future.
type PluginTokenVerifier struct {
	pluginID string
	keysFor  func(pluginID string) (SignatureVerifier, error)
	now      func() time.Time

	mu      sync.Mutex
	sources map[string]SignatureVerifier
}

// NewPluginTokenVerifier returns a verifier for tokens addressed to pluginID; keysFor
// builds the key source of a calling plugin (called once per plugin id).
func NewPluginTokenVerifier(pluginID string, keysFor func(pluginID string) (SignatureVerifier, error), now func() time.Time) *PluginTokenVerifier {
	if now == nil {
		now = time.Now
	}
	return &PluginTokenVerifier{pluginID: pluginID, keysFor: keysFor, now: now, sources: map[string]SignatureVerifier{}}
}

// validPluginID is Backstage's plugin id shape (lower-case letters, digits, dashes),
// which also keeps the discovery URL built from it harmless.
func validPluginID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

type pluginClaims struct {
	Sub *string         `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Iat *float64        `json:"iat"`
	Exp *float64        `json:"exp"`
	Obo json.RawMessage `json:"obo"`
}

// VerifyPluginToken returns the calling plugin's id and whether the token acts on
// behalf of a user (obo). Errors are AuthenticationErrors.
func (v *PluginTokenVerifier) VerifyPluginToken(ctx context.Context, token string) (string, bool, error) {
	fail := func(format string, args ...any) (string, bool, error) {
		return "", false, &backstageerr.Error{Name: backstageerr.NameAuthentication, Message: MsgFailedPluginTokenVerify, Cause: fmt.Errorf(format, args...)}
	}
	if len(token) > maxVerifiableToken {
		return fail("token too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fail("not a compact JWS")
	}
	var h tokenHeader
	if raw, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(raw, &h) != nil {
		return fail("bad header")
	}
	if normalizeTyp(h.Typ) != signingkeys.TypPlugin || h.Alg != signingkeys.AlgES256 {
		return fail("typ %q alg %q", h.Typ, h.Alg)
	}
	var unverified pluginClaims
	if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || json.Unmarshal(raw, &unverified) != nil || unverified.Sub == nil {
		return fail("bad payload")
	}
	sub := *unverified.Sub
	if !validPluginID(sub) {
		return fail("invalid plugin id")
	}
	src, err := v.source(sub)
	if err != nil {
		return fail("keys of plugin %s: %w", sub, err)
	}
	payload, err := src.VerifySignature(ctx, token)
	if err != nil {
		return fail("plugin %s: %w", sub, err)
	}
	var c pluginClaims
	if json.Unmarshal(payload, &c) != nil || c.Sub == nil || *c.Sub != sub || c.Iat == nil || c.Exp == nil {
		return fail("missing claims")
	}
	var aud string
	if json.Unmarshal(c.Aud, &aud) != nil || aud != v.pluginID {
		return fail("audience is not %s", v.pluginID)
	}
	if float64(v.now().Unix()) >= *c.Exp {
		return fail("expired")
	}
	return sub, len(c.Obo) > 0 && string(c.Obo) != "null", nil
}

func (v *PluginTokenVerifier) source(pluginID string) (SignatureVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.sources[pluginID]; ok {
		return s, nil
	}
	if len(v.sources) >= maxPluginKeySources {
		return nil, fmt.Errorf("too many calling plugins")
	}
	s, err := v.keysFor(pluginID)
	if err != nil {
		return nil, err
	}
	v.sources[pluginID] = s
	return s, nil
}
