package oauth2proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Backstage's header names and messages.
const (
	JWTHeader               = "X-OAUTH2-PROXY-ID-TOKEN"
	UserHeader              = "X-Forwarded-User"
	EmailHeader             = "X-Forwarded-Email"
	PreferredUsernameHeader = "X-Forwarded-Preferred-Username"

	MsgAuthenticationFailed = "Authentication failed"
	// Ours, with verification on.
	MsgMissingToken = "Missing " + JWTHeader + " header (Bearer <ID token>): it is required when auth.providers.oauth2Proxy.issuer is set"
	MsgRejected     = "The oauth2-proxy ID token was rejected, "
	MsgDisagree     = "The oauth2-proxy headers disagree with its ID token: "
	MsgUnavailable  = "The identity provider's keys could not be fetched to verify the oauth2-proxy ID token"
)

// Config is auth.providers.oauth2Proxy. Backstage reads nothing but signIn; issuer,
// audience and the rest are ours.
type Config struct {
	// Issuer is the IdP oauth2-proxy signs users in with (its issuer URL or discovery
	// URL); with Audience it turns on ID token verification.
	Issuer string `config:"issuer"`
	// Audience is the client id oauth2-proxy uses at the IdP (the ID token's aud).
	Audience string `config:"audience"`
	// IDTokenSignedResponseAlg lists the accepted algorithms (default RS256).
	IDTokenSignedResponseAlg config.StringOrList `config:"idTokenSignedResponseAlg"`
	// Timeout bounds each call to the IdP (discovery, keys).
	Timeout time.Duration `config:"timeout"`

	algs []string
}

// Module registers oauth2Proxy.
var Module = providers.Module{
	ID:        "oauth2Proxy",
	Kind:      providers.KindProxy,
	NewConfig: func() providers.Config { return &Config{Timeout: oidc.DefaultTimeout} },
	Resolvers: []resolvers.Factory{ForwardedUserMatchingUserEntityName(), ForwardedPreferredUsernameMatchingUserEntityName()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	var ps config.Problems
	algs, aps := oidc.CheckIDTokenAlgs(sec, "idTokenSignedResponseAlg", c.IDTokenSignedResponseAlg)
	c.algs = algs
	ps = append(ps, aps...)
	if c.Timeout <= 0 {
		ps = append(ps, sec.Problem("timeout", "must be greater than zero, got %s", c.Timeout))
	}
	switch {
	case c.Issuer == "" && c.Audience == "":
		ps = append(ps, sec.Warning("issuer", "not set: the X-Forwarded-* headers are trusted on network position alone, so anyone who reaches the backend without passing through oauth2-proxy can sign in as anyone; set issuer and audience to verify the ID token oauth2-proxy forwards in %s", JWTHeader))
	case c.Issuer == "":
		ps = append(ps, sec.Problem("issuer", "missing required config value (audience is set: the ID token is verified against the issuer's keys)"))
	case c.Audience == "":
		ps = append(ps, sec.Problem("audience", "missing required config value (issuer is set: the ID token must be issued to oauth2-proxy's client id)"))
	default:
		if _, _, err := oidc.DiscoveryURL(c.Issuer); err != nil {
			ps = append(ps, sec.Problem("issuer", "%v", err))
		}
	}
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) {
	p := &Provider{}
	if c.Issuer != "" {
		v, err := oidc.NewIDTokenVerifierFor(c.Issuer, c.Audience, c.algs, c.Timeout, deps)
		if err != nil {
			return nil, err
		}
		p.verifier = v
	}
	return p, nil
}

// Verifier verifies ID tokens (oidc.IDTokenVerifier).
type Verifier interface {
	VerifyIDToken(ctx context.Context, raw, nonce, accessToken string) (map[string]any, error)
}

// Provider is the built oauth2Proxy provider.
type Provider struct {
	// verifier is nil without issuer: the token is only decoded.
	verifier Verifier
}

var _ providers.ProxyProvider = (*Provider)(nil)

// providerInfo is Backstage's {accessToken: <the ID token or "">}.
type providerInfo struct {
	AccessToken string `json:"accessToken"`
}

// forwarded are the headers the module's resolvers read.
type forwarded struct {
	user, preferredUsername string
}

const forwardedClaim = "oauth2proxy.forwarded"

func forwardedOf(info resolvers.SignInInfo) forwarded {
	f, _ := info.Claims[forwardedClaim].(forwarded)
	return f
}

var bearer = regexp.MustCompile(`(?i)^Bearer[ ]+(\S+)$`)

// AuthenticateRequest implements providers.ProxyProvider.
func (p *Provider) AuthenticateRequest(ctx context.Context, r *http.Request) (providers.ProxyResult, error) {
	var jwt string
	if m := bearer.FindStringSubmatch(r.Header.Get(JWTHeader)); m != nil {
		jwt = m[1]
	}
	fw := forwarded{user: r.Header.Get(UserHeader), preferredUsername: r.Header.Get(PreferredUsernameHeader)}
	email := r.Header.Get(EmailHeader)
	claims := map[string]any{}
	// Backstage decodes the token; a malformed one fails in its words, in both modes.
	if jwt != "" {
		if err := decodeJWT(jwt); err != nil {
			return providers.ProxyResult{}, backstageerr.Wrap(backstageerr.NameAuthentication, err, MsgAuthenticationFailed)
		}
	}
	// Without a verifier the decoded claims are not given to the resolvers: nothing
	// vouches for them.
	if p.verifier != nil {
		if jwt == "" {
			return providers.ProxyResult{}, backstageerr.Authentication(MsgMissingToken)
		}
		verified, err := p.verifier.VerifyIDToken(ctx, jwt, "", "")
		if err != nil {
			return providers.ProxyResult{}, verifyError(err)
		}
		if err := agree(verified, email, fw); err != nil {
			return providers.ProxyResult{}, err
		}
		for k, v := range verified {
			claims[k] = v
		}
	}
	claims[forwardedClaim] = fw
	displayName := fw.preferredUsername
	if displayName == "" {
		displayName = fw.user
	}
	return providers.ProxyResult{
		Profile:      providers.Profile{Email: email, DisplayName: displayName},
		ProviderInfo: providerInfo{AccessToken: jwt},
		Claims:       claims,
	}, nil
}

// verifyError maps a refused token to a 401 and an IdP that could not be asked
// (discovery or keys) to a 503: nothing was decided about the token.
func verifyError(err error) error {
	if keyfetch.Undecided(err) {
		return &backstageerr.Error{Name: backstageerr.NameServiceUnavailable, Message: MsgUnavailable, Cause: err, Detail: err.Error()}
	}
	if be, ok := backstageerr.As(err); ok {
		// The issuer's OpenID configuration could not be loaded.
		return &backstageerr.Error{Name: backstageerr.NameServiceUnavailable, Message: MsgUnavailable, Cause: err, Detail: be.Message}
	}
	return &backstageerr.Error{Name: backstageerr.NameAuthentication, Message: MsgRejected + err.Error(), Cause: err}
}

// agree checks the forwarded headers against the verified token: oauth2-proxy takes
// X-Forwarded-Email from the email claim, X-Forwarded-Preferred-Username from
// preferred_username, and X-Forwarded-User from sub (or the email, with
// --prefer-email-to-user or an email user-id claim). A header that is sent must match.
func agree(claims map[string]any, email string, fw forwarded) error {
	str := func(k string) string { s, _ := claims[k].(string); return s }
	if v, ok := claims["email_verified"].(bool); ok && !v && email != "" {
		return backstageerr.Authentication("%sthe ID token says the email is not verified", MsgDisagree)
	}
	if email != "" && !strings.EqualFold(email, str("email")) {
		return backstageerr.Authentication("%s%s is not the token's email", MsgDisagree, EmailHeader)
	}
	if fw.preferredUsername != "" && fw.preferredUsername != str("preferred_username") {
		return backstageerr.Authentication("%s%s is not the token's preferred_username", MsgDisagree, PreferredUsernameHeader)
	}
	if fw.user != "" && fw.user != str("sub") && !(str("email") != "" && strings.EqualFold(fw.user, str("email"))) {
		return backstageerr.Authentication("%s%s is neither the token's sub nor its email", MsgDisagree, UserHeader)
	}
	return nil
}

// decodeJWT is jose's decodeJwt: the errors are its JWTInvalid messages.
func decodeJWT(raw string) error {
	parts := strings.Split(raw, ".")
	switch {
	case len(parts) == 5:
		return jwtInvalid("Only JWTs using Compact JWS serialization can be decoded")
	case len(parts) != 3:
		return jwtInvalid("Invalid JWT")
	case parts[1] == "":
		return jwtInvalid("JWTs must contain a payload")
	}
	seg := strings.TrimRight(parts[1], "=")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(seg); err != nil {
			return jwtInvalid("Failed to base64url decode the payload")
		}
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return jwtInvalid("Failed to parse the decoded payload as JSON")
	}
	if _, ok := v.(map[string]any); !ok {
		return jwtInvalid("Invalid JWT Claims Set")
	}
	return nil
}

func jwtInvalid(msg string) error { return &backstageerr.Error{Name: "JWTInvalid", Message: msg} }
