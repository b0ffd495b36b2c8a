package oidc

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Token endpoint client authentication methods (RFC 8414 names).
const (
	AuthMethodClientSecretBasic = "client_secret_basic"
	AuthMethodClientSecretPost  = "client_secret_post"
	AuthMethodNone              = "none"
)

const (
	// DefaultTimeout bounds every upstream call (Backstage's openid-client default).
	DefaultTimeout = 10 * time.Second
	// DefaultClockSkew is tolerated on ID token exp/iat/nbf (Backstage tolerates none).
	DefaultClockSkew = 60 * time.Second
	// MaxClockSkew is the largest clockSkew accepted from config.
	MaxClockSkew = 5 * time.Minute
)

// ScopeOptionRemoved is Backstage's startup error for the obsolete `scope` key.
const ScopeOptionRemoved = `The oidc provider no longer supports the "scope" configuration option. Please use the "additionalScopes" option instead.`

// AllowedIDTokenAlgs are the asymmetric JWS algorithms an ID token may be signed with.
// none and HS* are never accepted: HS* "verification" with a public key is the classic
// algorithm-confusion forgery.
var AllowedIDTokenAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// reservedStartParams are authorize parameters the provider sets itself;
// startUrlSearchParams cannot override them (Backstage applies them first for the same reason).
var reservedStartParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "request", "request_uri", "response_mode",
}

// Config is one environment of auth.providers.oidc: Backstage's oidc module keys plus
// ours (timeout, clockSkew, allowEmailWithoutVerifiedClaim). The framework keys
// (callbackUrl, sessionDuration, signIn) are read by the provider registry.
type Config struct {
	// MetadataURL is the configured issuer or discovery URL.
	MetadataURL  string `config:"metadataUrl"`
	ClientID     string `config:"clientId,required"`
	ClientSecret string `config:"clientSecret"`
	// TokenEndpointAuthMethod is client_secret_basic (default), client_secret_post or none.
	TokenEndpointAuthMethod string `config:"tokenEndpointAuthMethod"`
	// TokenSignedResponseAlg lists the accepted ID token algorithms (default RS256).
	TokenSignedResponseAlg config.StringOrList `config:"tokenSignedResponseAlg"`
	// AdditionalScopes from additionalScopes (string split on space/comma/pipe, or list).
	AdditionalScopes config.StringOrList `config:"additionalScopes"`
	// Prompt is sent as the prompt parameter; "" (default, and `auto`) omits it.
	Prompt string `config:"prompt"`
	// Timeout bounds each upstream HTTP call (default 10s).
	Timeout time.Duration `config:"timeout"`
	// ClockSkew is tolerated on ID token time claims (default 60s, max 5m).
	ClockSkew time.Duration `config:"clockSkew"`
	// StartURLSearchParams are extra authorize parameters.
	StartURLSearchParams map[string]string `config:"startUrlSearchParams"`
	// AllowEmailWithoutVerifiedClaim uses the email when the IdP sends no
	// email_verified claim. Off for generic OIDC, as in Backstage, because an IdP that
	// lets users set their own address would otherwise let them match someone else's
	// catalog user; on for Palette, which may omit the claim. An explicit non-true value
	// always drops the email.
	AllowEmailWithoutVerifiedClaim bool `config:"allowEmailWithoutVerifiedClaim"`

	// Derived by Check.

	// DiscoveryURL is MetadataURL with /.well-known/openid-configuration appended when
	// its path has no /.well-known/ segment.
	DiscoveryURL string
	// ExpectedIssuer is the issuer the discovery document must announce (trailing
	// slashes are ignored in that comparison).
	ExpectedIssuer string
	// TokenSignedResponseAlgs are the accepted ID token algorithms.
	TokenSignedResponseAlgs []string
}

// NewConfig returns a Config with the generic defaults, ready for config.Decode.
func NewConfig() *Config {
	return &Config{
		TokenEndpointAuthMethod: AuthMethodClientSecretBasic,
		Timeout:                 DefaultTimeout,
		ClockSkew:               DefaultClockSkew,
	}
}

// CheckOptions adjust Check for vendor providers built on this one.
type CheckOptions struct {
	// MetadataURLOptional skips the "missing required config value" problem for
	// metadataUrl (the vendor derives it, e.g. from authorizationUrl).
	MetadataURLOptional bool
	// ScopeKeyAllowed: the vendor reads the `scope` key itself, instead of Backstage's
	// removal error (TeraSky's SpectroCloud module uses `scope`).
	ScopeKeyAllowed bool
}

// Validate implements providers.Config for auth.providers.oidc.<env>.
func (c *Config) Validate(sec config.Section) config.Problems { return c.Check(sec, CheckOptions{}) }

// Check validates the decoded values, reports every problem with its path and derives
// DiscoveryURL, ExpectedIssuer and TokenSignedResponseAlgs.
func (c *Config) Check(sec config.Section, o CheckOptions) config.Problems {
	var ps config.Problems
	switch {
	case c.MetadataURL != "":
		disc, iss, err := DiscoveryURL(c.MetadataURL)
		if err != nil {
			ps = append(ps, sec.Problem("metadataUrl", "%v", err))
		} else {
			c.DiscoveryURL, c.ExpectedIssuer = disc, iss
		}
	case !o.MetadataURLOptional && !sec.Has("metadataUrl"):
		ps = append(ps, sec.Problem("metadataUrl", "missing required config value"))
	case !o.MetadataURLOptional:
		ps = append(ps, sec.Problem("metadataUrl", "must not be empty"))
	}
	switch c.TokenEndpointAuthMethod {
	case AuthMethodClientSecretBasic, AuthMethodClientSecretPost:
		if c.ClientSecret == "" {
			if sec.Has("clientSecret") {
				ps = append(ps, sec.Problem("clientSecret", "must not be empty"))
			} else {
				ps = append(ps, sec.Problem("clientSecret", "missing required config value"))
			}
		}
	case AuthMethodNone:
	default:
		ps = append(ps, sec.Problem("tokenEndpointAuthMethod", "must be one of client_secret_basic, client_secret_post, none; got %q", c.TokenEndpointAuthMethod))
	}

	algs, aps := CheckIDTokenAlgs(sec, "tokenSignedResponseAlg", c.TokenSignedResponseAlg)
	c.TokenSignedResponseAlgs = algs
	ps = append(ps, aps...)
	if sec.Has("scope") && !o.ScopeKeyAllowed {
		ps = append(ps, sec.Problem("scope", "%s", ScopeOptionRemoved))
	}
	if p := strings.TrimSpace(c.Prompt); p == "auto" {
		c.Prompt = ""
	} else {
		c.Prompt = p
	}
	if sec.Has("timeout") && c.Timeout <= 0 {
		ps = append(ps, sec.Problem("timeout", "must be greater than zero"))
	}
	if c.ClockSkew > MaxClockSkew || c.ClockSkew < 0 {
		ps = append(ps, sec.Problem("clockSkew", "must be at most %s, got %s", MaxClockSkew, c.ClockSkew))
	}
	for k := range c.StartURLSearchParams {
		if slices.Contains(reservedStartParams, k) {
			ps = append(ps, sec.Sub("startUrlSearchParams").Problem(k, "cannot be set through startUrlSearchParams (the provider sets %q itself)", k))
			delete(c.StartURLSearchParams, k)
		}
	}
	if len(c.StartURLSearchParams) == 0 {
		c.StartURLSearchParams = nil
	}
	return ps
}

// CheckIDTokenAlgs validates the ID token algorithms configured at key (values, as
// decoded from a string or a list): each must be in AllowedIDTokenAlgs. It returns the
// accepted algorithms, RS256 when the key is absent or lists none that is allowed.
func CheckIDTokenAlgs(sec config.Section, key string, values []string) ([]string, config.Problems) {
	if !sec.Has(key) {
		return []string{"RS256"}, nil
	}
	var ok []string
	var ps config.Problems
	for _, a := range values {
		if !slices.Contains(AllowedIDTokenAlgs, a) {
			ps = append(ps, sec.Problem(key, "%q is not an allowed ID token algorithm (allowed: %s; none and HS* are never accepted)", a, strings.Join(AllowedIDTokenAlgs, ", ")))
			continue
		}
		if !slices.Contains(ok, a) {
			ok = append(ok, a)
		}
	}
	if len(ok) == 0 {
		if len(values) == 0 {
			ps = append(ps, sec.Problem(key, "must name at least one algorithm"))
		}
		return []string{"RS256"}, ps
	}
	return ok, ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Module registers the generic OpenID Connect provider (Backstage's oidc module keys).
var Module = providers.Module{
	ID:        "oidc",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{resolvers.EmailAnnotation()},
}

// DiscoveryURL turns Backstage's metadataUrl (an issuer URL or a full discovery URL)
// into the discovery document URL and the issuer that document must announce.
func DiscoveryURL(metadataURL string) (discovery, issuer string, err error) {
	u, err := url.Parse(strings.TrimSpace(metadataURL))
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", "", fmt.Errorf("must be an absolute URL (the issuer or its /.well-known/openid-configuration), got %q", metadataURL)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", "", fmt.Errorf("must be an http(s) URL, got %q", metadataURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("must not have a query or fragment, got %q", metadataURL)
	}
	origin := u.Scheme + "://" + u.Host
	path := u.EscapedPath()
	if i := strings.Index(path, "/.well-known/"); i >= 0 {
		rest := path[i+len("/.well-known/"):]
		switch {
		case rest == "openid-configuration":
			// issuer + /.well-known/openid-configuration (OIDC Discovery).
			issuer = origin + path[:i]
		case strings.HasPrefix(rest, "openid-configuration/"), strings.HasPrefix(rest, "oauth-authorization-server/"):
			// RFC 8414 style: the issuer's path comes after the well-known name.
			issuer = origin + path[:i] + rest[strings.Index(rest, "/"):]
		default:
			issuer = origin + path[:i]
		}
		return origin + path, issuer, nil
	}
	issuer = origin + strings.TrimSuffix(path, "/")
	return issuer + "/.well-known/openid-configuration", issuer, nil
}
