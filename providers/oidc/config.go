package oidc

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
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

// allowedAlgs are the asymmetric JWS algorithms an ID token may be signed with. none and
// HS* are never accepted: HS* "verification" with a public key is the classic
// algorithm-confusion forgery.
var allowedAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// reservedStartParams are authorize parameters the provider sets itself;
// startUrlSearchParams cannot override them (Backstage applies them first for the same reason).
var reservedStartParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "request", "request_uri", "response_mode",
}

// Config is one environment of auth.providers.oidc (Backstage's oidc module keys).
type Config struct {
	// MetadataURL is the configured issuer or discovery URL.
	MetadataURL string
	// DiscoveryURL is MetadataURL with /.well-known/openid-configuration appended when
	// its path has no /.well-known/ segment.
	DiscoveryURL string
	// ExpectedIssuer is the issuer the discovery document must announce (derived from
	// DiscoveryURL; trailing slashes are ignored in that comparison).
	ExpectedIssuer string

	ClientID     string
	ClientSecret string
	// CallbackURL is the configured callbackUrl ("" = the route handlers' default).
	CallbackURL string
	// TokenEndpointAuthMethod is client_secret_basic (default), client_secret_post or none.
	TokenEndpointAuthMethod string
	// TokenSignedResponseAlgs are the accepted ID token algorithms (default [RS256]).
	TokenSignedResponseAlgs []string
	// AdditionalScopes from additionalScopes (string split on space/comma/pipe, or list).
	AdditionalScopes []string
	// Prompt is sent as the prompt parameter; "" (default, and `auto`) omits it.
	Prompt string
	// Timeout bounds each upstream HTTP call (default 10s).
	Timeout time.Duration
	// StartURLSearchParams are extra authorize parameters.
	StartURLSearchParams map[string]string
	// SessionDuration caps the refresh cookie; 0 when not configured. Parsed here, used by
	// the route handlers.
	SessionDuration time.Duration
	// SignIn is the signIn node (resolvers), left to the caller.
	SignIn *config.Reader
	// ClockSkew is tolerated on ID token time claims (default 60s, max 5m).
	ClockSkew time.Duration
	// AllowEmailWithoutVerifiedClaim uses the email when the IdP sends no
	// email_verified claim (ours: allowEmailWithoutVerifiedClaim). Off for generic OIDC,
	// as in Backstage, because an IdP that lets users set their own address would
	// otherwise let them match someone else's catalog user; on for Palette, which may
	// omit the claim. An explicit non-true value always drops the email.
	AllowEmailWithoutVerifiedClaim bool
}

// ParseOptions adjust ParseConfig for vendor providers built on this one.
type ParseOptions struct {
	// MetadataURLOptional skips the "missing required config value" problem for
	// metadataUrl (the caller derives it, e.g. from authorizationUrl).
	MetadataURLOptional bool
	// AllowScope accepts the `scope` key as additional scopes instead of reporting
	// Backstage's removal error (TeraSky's SpectroCloud module uses `scope`).
	AllowScope bool
	// DefaultTokenEndpointAuthMethod replaces client_secret_basic as the default.
	DefaultTokenEndpointAuthMethod string
	// EmailWithoutVerifiedClaimByDefault is the default of allowEmailWithoutVerifiedClaim.
	EmailWithoutVerifiedClaimByDefault bool
}

// ParseConfig reads auth.providers.oidc.<env> and records every problem in r.
func ParseConfig(r *config.Reader) Config {
	return ParseConfigWith(r, ParseOptions{})
}

// ParseConfigWith is ParseConfig with vendor adjustments.
func ParseConfigWith(r *config.Reader, opts ParseOptions) Config {
	c := Config{
		ClientID:    r.RequiredString("clientId"),
		CallbackURL: r.String("callbackUrl"),
		Timeout:     DefaultTimeout,
		ClockSkew:   DefaultClockSkew,
		SignIn:      r.Sub("signIn"),

		AllowEmailWithoutVerifiedClaim: r.Bool("allowEmailWithoutVerifiedClaim", opts.EmailWithoutVerifiedClaimByDefault),
	}
	if opts.MetadataURLOptional {
		c.MetadataURL = r.String("metadataUrl")
	} else {
		c.MetadataURL = r.RequiredString("metadataUrl")
	}
	if c.MetadataURL != "" {
		disc, iss, err := DiscoveryURL(c.MetadataURL)
		if err != nil {
			r.Problemf("metadataUrl", "%v", err)
		} else {
			c.DiscoveryURL, c.ExpectedIssuer = disc, iss
		}
	}
	if c.CallbackURL != "" {
		if u, err := url.Parse(c.CallbackURL); err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
			r.Problemf("callbackUrl", "must be an absolute http(s) URL, got %q", c.CallbackURL)
		}
	}

	c.TokenEndpointAuthMethod = AuthMethodClientSecretBasic
	if opts.DefaultTokenEndpointAuthMethod != "" {
		c.TokenEndpointAuthMethod = opts.DefaultTokenEndpointAuthMethod
	}
	if r.Has("tokenEndpointAuthMethod") {
		m := r.String("tokenEndpointAuthMethod")
		switch m {
		case AuthMethodClientSecretBasic, AuthMethodClientSecretPost, AuthMethodNone:
			c.TokenEndpointAuthMethod = m
		default:
			r.Problemf("tokenEndpointAuthMethod", "must be one of client_secret_basic, client_secret_post, none; got %q", m)
		}
	}
	if c.TokenEndpointAuthMethod == AuthMethodNone {
		c.ClientSecret = r.String("clientSecret")
	} else {
		c.ClientSecret = r.RequiredString("clientSecret")
	}

	c.TokenSignedResponseAlgs = []string{"RS256"}
	if r.Has("tokenSignedResponseAlg") {
		algs := r.StringOrList("tokenSignedResponseAlg")
		var ok []string
		for _, a := range algs {
			if !slices.Contains(allowedAlgs, a) {
				r.Problemf("tokenSignedResponseAlg", "%q is not an allowed ID token algorithm (allowed: %s; none and HS* are never accepted)", a, strings.Join(allowedAlgs, ", "))
				continue
			}
			if !slices.Contains(ok, a) {
				ok = append(ok, a)
			}
		}
		if len(ok) > 0 {
			c.TokenSignedResponseAlgs = ok
		} else if len(algs) == 0 {
			r.Problemf("tokenSignedResponseAlg", "must name at least one algorithm")
		}
	}

	c.AdditionalScopes = r.StringOrList("additionalScopes")
	if r.Has("scope") {
		if opts.AllowScope {
			for _, s := range r.StringOrList("scope") {
				if !slices.Contains(c.AdditionalScopes, s) {
					c.AdditionalScopes = append(c.AdditionalScopes, s)
				}
			}
		} else {
			r.Problemf("scope", "%s", ScopeOptionRemoved)
		}
	}

	if p := strings.TrimSpace(r.String("prompt")); p != "" && p != "auto" {
		c.Prompt = p
	}
	if d, ok := r.Duration("timeout"); ok {
		if d <= 0 {
			r.Problemf("timeout", "must be greater than zero")
		} else {
			c.Timeout = d
		}
	}
	if d, ok := r.Duration("clockSkew"); ok {
		if d > MaxClockSkew {
			r.Problemf("clockSkew", "must be at most %s, got %s", MaxClockSkew, d)
		} else {
			c.ClockSkew = d
		}
	}
	if d, ok := r.Duration("sessionDuration"); ok {
		if d <= 0 {
			r.Problemf("sessionDuration", "must be greater than zero")
		} else {
			c.SessionDuration = d
		}
	}
	if r.Has("startUrlSearchParams") {
		params := r.StringMap("startUrlSearchParams")
		sub := r.Sub("startUrlSearchParams")
		for k := range params {
			if slices.Contains(reservedStartParams, k) {
				sub.Problemf(k, "cannot be set through startUrlSearchParams (the provider sets %q itself)", k)
				delete(params, k)
			}
		}
		if len(params) > 0 {
			c.StartURLSearchParams = params
		}
	}
	return c
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
