package tokens

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"golang.org/x/sync/singleflight"
)

// PluginTokenLifetime is the lifetime of a plugin (service-to-service) token.
const PluginTokenLifetime = time.Hour

// pluginTokenMinRemaining: a cached token is reused while it has at least this long left.
const pluginTokenMinRemaining = 10 * time.Minute

// PluginTokenIssuer mints Backstage plugin tokens (BACKSTAGE_AUTH.md §5.4) for
// calls this backend makes to other plugins, e.g. sub "auth" → aud "catalog".
// The keys must be a signingkeys.KeySet over the plugin key table, served at
// /.backstage/auth/v1/jwks.json.
type PluginTokenIssuer struct {
	keys     signingkeys.KeySource
	pluginID string
	now      func() time.Time

	mu     sync.RWMutex
	tokens map[string]pluginToken
	group  singleflight.Group
}

type pluginToken struct {
	token string
	exp   time.Time
}

// NewPluginTokenIssuer returns an issuer for tokens with sub = pluginID.
func NewPluginTokenIssuer(keys signingkeys.KeySource, pluginID string, now func() time.Time) *PluginTokenIssuer {
	if now == nil {
		now = time.Now
	}
	return &PluginTokenIssuer{keys: keys, pluginID: pluginID, now: now, tokens: make(map[string]pluginToken)}
}

// PluginToken returns a token for calling targetPluginID, reusing a cached one
// while it has at least 10 minutes left.
func (p *PluginTokenIssuer) PluginToken(ctx context.Context, targetPluginID string) (string, error) {
	if targetPluginID == "" {
		return "", errors.New("plugin token: target plugin id is empty")
	}
	p.mu.RLock()
	t, ok := p.tokens[targetPluginID]
	p.mu.RUnlock()
	if ok && t.exp.Sub(p.now()) >= pluginTokenMinRemaining {
		return t.token, nil
	}
	v, err, _ := p.group.Do(targetPluginID, func() (any, error) {
		key, err := p.keys.SigningKey(ctx)
		if err != nil {
			return "", fmt.Errorf("plugin token for %s: %w", targetPluginID, err)
		}
		iat := p.now().Unix()
		exp := iat + int64(PluginTokenLifetime/time.Second)
		b := make([]byte, 0, 96+len(p.pluginID)+len(targetPluginID))
		b = append(b, `{"sub":`...)
		b = jsrules.AppendString(b, p.pluginID)
		b = append(b, `,"aud":`...)
		b = jsrules.AppendString(b, targetPluginID)
		b = append(b, `,"iat":`...)
		b = strconv.AppendInt(b, iat, 10)
		b = append(b, `,"exp":`...)
		b = strconv.AppendInt(b, exp, 10)
		b = append(b, '}')
		tok, err := key.Sign(signingkeys.TypPlugin, b)
		if err != nil {
			return "", fmt.Errorf("plugin token for %s: %w", targetPluginID, err)
		}
		p.mu.Lock()
		p.tokens[targetPluginID] = pluginToken{token: tok, exp: time.Unix(exp, 0)}
		p.mu.Unlock()
		return tok, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}
