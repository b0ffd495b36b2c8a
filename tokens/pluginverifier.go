package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// Plugin token verification messages, as backend-defaults' PluginTokenHandler words them.
const (
	MsgFailedPluginTokenVerify = "Failed plugin token verification"
	MsgPluginMissingSubject    = "Invalid plugin token: missing subject"
	MsgPluginForbiddenSubject  = "Invalid plugin token: forbidden subject format"
)

// pluginIDPattern is backend-defaults' ALLOWED_PLUGIN_ID_PATTERN.
var pluginIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Bounds on the per-plugin key fetchers: the subject that picks one is read before
// any signature is checked, so made-up subjects must not grow memory or make us fetch
// without limit.
const (
	defaultMaxPlugins   = 64
	newPluginsPerWindow = 10
	newPluginWindow     = time.Minute
)

// PluginVerifierOptions configure a PluginVerifier.
type PluginVerifierOptions struct {
	// OwnPluginID is the audience tokens must carry ("auth").
	OwnPluginID string
	// BaseURL is discovery.getBaseUrl: the internal base URL of a plugin, whose
	// /.backstage/auth/v1/jwks.json lists the keys its tokens are signed with.
	BaseURL func(pluginID string) string
	// Keys returns the key set at a plugin's JWKS URL (cmd: a providers/keyfetch
	// Fetcher, which caches keys and refetches on an unknown kid, rate-limited). It is
	// called once per plugin the verifier remembers.
	Keys   func(pluginID, jwksURL string) (PluginKeys, error)
	Now    func() time.Time
	Logger *slog.Logger
	// MaxPlugins bounds the plugins whose keys are cached (default 64).
	MaxPlugins int
}

// PluginKeys checks a compact JWS's signature against one plugin's published keys
// and returns its payload (keyfetch.Fetcher.VerifySignature). Claims are the
// verifier's.
type PluginKeys interface {
	VerifySignature(ctx context.Context, raw string) ([]byte, error)
}

// PluginPrincipal is a verified plugin token.
type PluginPrincipal struct {
	// Subject is "plugin:<sub>".
	Subject string
	// OnBehalfOf is the obo claim, a limited user token ("" for a plain service call).
	// It is not verified here: Authenticator does that with the user keys.
	OnBehalfOf string
}

// PluginVerifier verifies Backstage plugin tokens (typ vnd.backstage.plugin) that
// other backends' plugins send us, like backend-defaults' PluginTokenHandler: the
// unverified sub picks the calling plugin, whose keys come from its discovery base
// URL's /.backstage/auth/v1/jwks.json (through Options.Keys: cached, refetched on an
// unknown kid with a rate limit, never per request); then signature, aud = our plugin
// id, and iat, exp, sub, aud present with exp in the future.
type PluginVerifier struct {
	o PluginVerifierOptions

	mu       sync.Mutex
	fetchers *lru.Cache[string, PluginKeys]
	created  []time.Time
}

// NewPluginVerifier returns a PluginVerifier.
func NewPluginVerifier(o PluginVerifierOptions) (*PluginVerifier, error) {
	if o.OwnPluginID == "" || o.BaseURL == nil || o.Keys == nil {
		return nil, errors.New("tokens: PluginVerifierOptions.OwnPluginID, BaseURL and Keys are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxPlugins <= 0 {
		o.MaxPlugins = defaultMaxPlugins
	}
	c, _ := lru.New[string, PluginKeys](o.MaxPlugins)
	return &PluginVerifier{o: o, fetchers: c}, nil
}

// IsPluginToken reports whether token's (unverified) header says it is a plugin token.
func IsPluginToken(token string) bool {
	h64, _, ok := strings.Cut(token, ".")
	if !ok || len(h64) > 4096 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return false
	}
	var h tokenHeader
	return json.Unmarshal(b, &h) == nil && normalizeTyp(h.Typ) == signingkeys.TypPlugin
}

type pluginClaims struct {
	Sub *string         `json:"sub"`
	Iat *float64        `json:"iat"`
	Exp *float64        `json:"exp"`
	Nbf *float64        `json:"nbf"`
	Aud json.RawMessage `json:"aud"`
	Obo *string         `json:"obo"`
}

func failedPlugin(cause error) error {
	return &backstageerr.Error{Name: backstageerr.NameAuthentication, Message: MsgFailedPluginTokenVerify, Cause: cause}
}

// VerifyPluginToken verifies a plugin token. Errors are backstageerr
// AuthenticationErrors with Node's messages; the cause says why.
func (v *PluginVerifier) VerifyPluginToken(ctx context.Context, token string) (PluginPrincipal, error) {
	if len(token) > maxVerifiableToken {
		return PluginPrincipal{}, illegalToken(errors.New("token too large"))
	}
	if !IsPluginToken(token) {
		return PluginPrincipal{}, illegalToken(errors.New("not a plugin token"))
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return PluginPrincipal{}, illegalToken(errors.New("not a compact JWS"))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return PluginPrincipal{}, illegalToken(fmt.Errorf("payload: %w", err))
	}
	var unverified struct {
		Sub any `json:"sub"`
	}
	if err := json.Unmarshal(raw, &unverified); err != nil {
		return PluginPrincipal{}, illegalToken(fmt.Errorf("payload: %w", err))
	}
	sub, _ := unverified.Sub.(string)
	switch {
	case unverified.Sub == nil || sub == "":
		return PluginPrincipal{}, backstageerr.Authentication(MsgPluginMissingSubject)
	case !pluginIDPattern.MatchString(sub):
		return PluginPrincipal{}, backstageerr.Authentication(MsgPluginForbiddenSubject)
	}
	f, err := v.fetcher(sub)
	if err != nil {
		return PluginPrincipal{}, failedPlugin(err)
	}
	payload, err := f.VerifySignature(ctx, token)
	if err != nil {
		v.o.Logger.Warn("Failed to verify incoming plugin token", "plugin", sub, "error", err)
		return PluginPrincipal{}, failedPlugin(err)
	}
	var c pluginClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return PluginPrincipal{}, failedPlugin(fmt.Errorf("payload: %w", err))
	}
	nowSec := float64(v.o.Now().Unix())
	switch {
	case c.Iat == nil:
		err = errors.New(`missing required "iat" claim`)
	case c.Exp == nil:
		err = errors.New(`missing required "exp" claim`)
	case c.Sub == nil:
		err = errors.New(`missing required "sub" claim`)
	case len(c.Aud) == 0:
		err = errors.New(`missing required "aud" claim`)
	case !audienceContains(c.Aud, v.o.OwnPluginID):
		err = errors.New(`unexpected "aud" claim value`)
	case *c.Exp <= nowSec:
		err = errors.New(`"exp" claim timestamp check failed`)
	case c.Nbf != nil && *c.Nbf > nowSec:
		err = errors.New(`"nbf" claim timestamp check failed`)
	}
	if err != nil {
		v.o.Logger.Warn("Failed to verify incoming plugin token", "plugin", sub, "error", err)
		return PluginPrincipal{}, failedPlugin(err)
	}
	p := PluginPrincipal{Subject: "plugin:" + *c.Sub}
	if c.Obo != nil {
		p.OnBehalfOf = *c.Obo
	}
	return p, nil
}

func audienceContains(raw json.RawMessage, want string) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == want
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for _, a := range list {
			if a == want {
				return true
			}
		}
	}
	return false
}

// fetcher returns the cached key fetcher of pluginID, creating one if the window's
// budget of new plugins allows.
func (v *PluginVerifier) fetcher(pluginID string) (PluginKeys, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if f, ok := v.fetchers.Get(pluginID); ok {
		return f, nil
	}
	now := v.o.Now()
	kept := v.created[:0]
	for _, t := range v.created {
		if now.Sub(t) < newPluginWindow {
			kept = append(kept, t)
		}
	}
	v.created = kept
	if len(v.created) >= newPluginsPerWindow {
		return nil, fmt.Errorf("too many new calling plugins in the last %s; %q not looked up", newPluginWindow, pluginID)
	}
	url := strings.TrimRight(v.o.BaseURL(pluginID), "/") + "/.backstage/auth/v1/jwks.json"
	f, err := v.o.Keys(pluginID, url)
	if err != nil {
		return nil, err
	}
	v.created = append(v.created, now)
	v.fetchers.Add(pluginID, f)
	return f, nil
}
