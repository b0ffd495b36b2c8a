package google

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Google's endpoints, as passport-google-oauth20 and google-auth-library use them.
const (
	AuthorizationURL = "https://accounts.google.com/o/oauth2/v2/auth"
	TokenURL         = "https://www.googleapis.com/oauth2/v4/token"
	UserInfoURL      = "https://www.googleapis.com/oauth2/v3/userinfo"
	RevokeURL        = "https://oauth2.googleapis.com/revoke"
	// Issuer is where the ID tokens' keys are found (its discovery document); tokens
	// name it as it is or as IssuerAlias.
	Issuer      = "https://accounts.google.com"
	IssuerAlias = "accounts.google.com"
)

// RequiredScopes are always requested (Backstage's google module).
var RequiredScopes = []string{"openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile"}

// Config is one environment of auth.providers.google: only the common keys.
type Config struct {
	oauth2engine.ClientConfig
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the Google provider.
var Module = providers.Module{
	ID:        "google",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{EmailMatchingUserEntityAnnotation()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems { return c.Check(sec) }

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Google environment: the OAuth2 engine with Google's steps, and
// revocation on logout.
type Provider struct {
	*oauth2engine.Engine
	revokeURL string
}

var _ providers.Logouter = (*Provider)(nil)

// New returns the provider for cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = AuthorizationURL, TokenURL
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes}
	// Google accepts S256 PKCE and echoes the nonce in the ID token.
	ec.PKCE, ec.Nonce = true, true
	v, err := oidc.NewIDTokenVerifierFor(Issuer, cfg.ClientID, nil, cfg.Timeout, deps)
	if err != nil {
		return nil, fmt.Errorf("google: %w", err)
	}
	v.WithIssuers(oidc.IssuerOptions{Aliases: []string{IssuerAlias}})
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{
		AuthorizeParams: authorizeParams,
		FetchProfile:    fetchProfile(UserInfoURL),
		IDTokenVerifier: v,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("google: %w", err)
	}
	return &Provider{Engine: e, revokeURL: RevokeURL}, nil
}

// authorizeParams are the module's start options as the strategy maps them
// (accessType, prompt, includeGrantedScopes).
func authorizeParams(providers.StartRequest) oauth2engine.Params {
	return oauth2engine.Params{{Key: "access_type", Value: "offline"}, {Key: "prompt", Value: "consent"}, {Key: "include_granted_scopes", Value: "true"}}
}

// fetchProfile reads the OpenID userinfo with the access token in the Authorization
// header and maps it as passport-google-oauth20's OpenID profile parser does.
func fetchProfile(url string) func(context.Context, *oauth2engine.Client, *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	return func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
		raw, _, err := c.GetJSON(ctx, url, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		return ProfileFromUserInfo(raw), nil
	}
}

// ProfileFromUserInfo maps a userinfo object to the full profile: id (sub),
// displayName (name), emails [{email, email_verified}], photos (picture).
func ProfileFromUserInfo(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{ID: str("sub"), DisplayName: str("name"), Raw: raw}
	if email := str("email"); email != "" {
		e := oauth2engine.Email{Value: email}
		if v, ok := raw["email_verified"]; ok && v != nil {
			// A boolean as Google sends it; the string "false" (or anything but true
			// or "true") counts as unverified too, where Backstage rejects only false.
			verified := upstream.EmailVerified(v, false)
			e.Verified = &verified
		}
		fp.Emails = []oauth2engine.Email{e}
	}
	if pic := str("picture"); pic != "" {
		fp.Photos = []string{pic}
	}
	return fp
}

// Logout implements providers.Logouter: the session's refresh token is revoked at
// Google (which ends the whole grant), sent in the form body. Failures are returned for
// the router to log; the user is signed out anyway.
func (p *Provider) Logout(ctx context.Context, session []byte) error {
	s, err := oauth2engine.DecodeSession(session)
	if err != nil || s.RefreshToken == "" {
		return nil
	}
	req, err := http.NewRequest(http.MethodPost, p.revokeURL, strings.NewReader(oauth2engine.Params{{Key: "token", Value: s.RefreshToken}}.Encode()))
	if err != nil {
		return fmt.Errorf("google: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a, err := p.Client().Do(ctx, req)
	if err != nil {
		return fmt.Errorf("google: revoke the refresh token: %s: %w", oauth2engine.Reason(err, p.Client().Timeout()), err)
	}
	if !a.OK() {
		return fmt.Errorf("google: revoke the refresh token: %w", &oauth2engine.StatusError{Status: a.Status})
	}
	return nil
}
