package gcpiap

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/proxyjwt"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Backstage's constants and messages.
const (
	DefaultJWTHeader = "x-goog-iap-jwt-assertion"
	Issuer           = "https://cloud.google.com/iap"
	// KeysURL is Google's IAP key set in JWK form (Backstage reads the same keys as
	// PEMs from .../public_key).
	KeysURL = "https://www.gstatic.com/iap/verify/public_key-jwk"

	MsgMissingHeader  = "Missing Google IAP header"
	MsgKeys           = "Unable to list Google IAP token verification keys"
	MsgVerifyFailed   = "Google IAP token verification failed, "
	MsgMissingSubject = "Google IAP token payload is missing subject claim"
	MsgMissingEmail   = "Google IAP token payload is missing email claim"
)

// Clock skew on exp, iat and nbf (Backstage's google-auth-library allows 5 minutes).
const (
	DefaultClockSkew = 30 * time.Second
	MaxClockSkew     = 5 * time.Minute
	// maxLifetime: google-auth-library refuses tokens valid for more than a day.
	maxLifetime = 24 * time.Hour
)

// Config is auth.providers.gcpIap.
type Config struct {
	// Audience is IAP's signed-header audience, compared exactly with aud
	// (/projects/<number>/global/backendServices/<id> or /projects/<number>/apps/<id>).
	Audience  string `config:"audience"`
	JWTHeader string `config:"jwtHeader"`
	// ClockSkew (ours) is tolerated on exp, iat and nbf.
	ClockSkew time.Duration `config:"clockSkew"`
	// SessionDuration is in Backstage's schema but read by nothing (accepted, unused).
	SessionDuration any `config:"sessionDuration"`
}

// Module registers gcpIap.
var Module = providers.Module{
	ID:        "gcpIap",
	Kind:      providers.KindProxy,
	NewConfig: func() providers.Config { return &Config{JWTHeader: DefaultJWTHeader, ClockSkew: DefaultClockSkew} },
	Resolvers: []resolvers.Factory{EmailMatchingUserEntityAnnotation(), IDMatchingUserEntityAnnotation()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	var ps config.Problems
	if strings.TrimSpace(c.Audience) == "" {
		ps = append(ps, sec.Problem("audience", "missing required config value"))
	}
	if c.JWTHeader == "" || !validHeaderName(c.JWTHeader) {
		ps = append(ps, sec.Problem("jwtHeader", "must be an HTTP header name, got %q", c.JWTHeader))
	}
	if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
		ps = append(ps, sec.Problem("clockSkew", "must be between 0s and %s, got %s", MaxClockSkew, c.ClockSkew))
	}
	return ps
}

// validHeaderName is RFC 9110's token.
func validHeaderName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return s != ""
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) {
	keys, err := keyfetch.NewJWKS(KeysURL, keyfetch.Options{
		Client: deps.HTTPClient, Now: deps.Now, Logger: deps.Logger, Name: "gcpIap " + KeysURL, Algs: []string{"ES256"},
	})
	if err != nil {
		return nil, err
	}
	return &Provider{
		header: c.JWTHeader, keys: keys, now: deps.Now,
		expect: proxyjwt.Expect{Issuer: Issuer, Audience: c.Audience, Leeway: c.ClockSkew, IssuedAtSkew: max(c.ClockSkew, time.Second), Now: deps.Now},
	}, nil
}

// Provider is the built gcpIap provider.
type Provider struct {
	header string
	keys   *keyfetch.Fetcher
	expect proxyjwt.Expect
	now    func() time.Time
}

var _ providers.ProxyProvider = (*Provider)(nil)

// providerInfo is Backstage's {iapToken: payload}; the payload is written as
// JSON.stringify writes the parsed payload.
type providerInfo struct {
	IAPToken json.RawMessage `json:"iapToken"`
}

// tokenClaim is the key under which Claims carry the verified payload for the
// module's resolvers (Backstage's info.result.iapToken).
const tokenClaim = "gcpiap.iapToken"

// AuthenticateRequest implements providers.ProxyProvider.
func (p *Provider) AuthenticateRequest(ctx context.Context, r *http.Request) (providers.ProxyResult, error) {
	raw := r.Header.Get(p.header)
	if raw == "" {
		return providers.ProxyResult{}, backstageerr.Authentication(MsgMissingHeader)
	}
	tok, err := proxyjwt.Verify(ctx, p.keys, raw, p.expect)
	if err == nil {
		err = p.googleChecks(tok)
	}
	if err != nil {
		return providers.ProxyResult{}, proxyjwt.AsBackstage(err, MsgVerifyFailed, MsgKeys)
	}
	sub, _ := tok.Claims["sub"].(string)
	if sub == "" {
		return providers.ProxyResult{}, backstageerr.Authentication(MsgMissingSubject)
	}
	email, _ := tok.Claims["email"].(string)
	if email == "" {
		return providers.ProxyResult{}, backstageerr.Authentication(MsgMissingEmail)
	}
	payload, err := jsrules.AppendJSON(nil, tok.Payload)
	if err != nil {
		return providers.ProxyResult{}, backstageerr.Authentication("%sthe token claims are not JSON", MsgVerifyFailed)
	}
	claims := make(map[string]any, len(tok.Claims)+1)
	for k, v := range tok.Claims {
		claims[k] = v
	}
	claims[tokenClaim] = iapToken{Sub: sub, Email: email}
	return providers.ProxyResult{
		Profile:      providers.Profile{Email: email},
		ProviderInfo: providerInfo{IAPToken: payload},
		Claims:       claims,
	}, nil
}

// googleChecks are google-auth-library's beyond jose's: iat is required, and a token
// may not be valid for more than a day.
func (p *Provider) googleChecks(tok *proxyjwt.Token) error {
	if _, ok := tok.Claims["iat"]; !ok {
		return proxyjwt.Rejected("the token has no issue time (iat)")
	}
	if tok.Expiry.Sub(p.now()) > maxLifetime {
		return proxyjwt.Rejected("the token expires too far in the future (exp)")
	}
	return nil
}

// iapToken is what the resolvers read of the verified payload.
type iapToken struct{ Sub, Email string }

func tokenOf(info resolvers.SignInInfo) iapToken {
	t, _ := info.Claims[tokenClaim].(iapToken)
	return t
}
