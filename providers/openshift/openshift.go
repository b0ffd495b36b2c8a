package openshift

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Paths under openshiftApiServerUrl.
const (
	UserPath        = "/apis/user.openshift.io/v1/users/~"
	AccessTokenPath = "/apis/oauth.openshift.io/v1/oauthaccesstokens/"
)

// tokenPrefix starts every OpenShift 4 access token; the token's API object is named
// sha256~ + base64url(sha256(the rest)).
const tokenPrefix = "sha256~"

// RequiredScopes are always requested (Backstage's openshift module).
var RequiredScopes = []string{"user:full"}

// Config is one environment of auth.providers.openshift.
type Config struct {
	oauth2engine.ClientConfig
	AuthorizationURL string `config:"authorizationUrl,required"`
	TokenURL         string `config:"tokenUrl,required"`
	// APIServerURL is the cluster's API server (https://api.<cluster>:6443); one
	// trailing "/" is dropped.
	APIServerURL string `config:"openshiftApiServerUrl,required"`
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the OpenShift provider.
var Module = providers.Module{
	ID:        "openshift",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{DisplayNameMatchingUserEntityName()},
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	ps = append(ps, oauth2engine.CheckHTTPURL(sec, "authorizationUrl", c.AuthorizationURL)...)
	ps = append(ps, oauth2engine.CheckHTTPURL(sec, "tokenUrl", c.TokenURL)...)
	c.APIServerURL = strings.TrimSuffix(strings.TrimSpace(c.APIServerURL), "/")
	if p := oauth2engine.CheckHTTPURL(sec, "openshiftApiServerUrl", c.APIServerURL); p != nil {
		return append(ps, p...)
	}
	if u, _ := url.Parse(c.APIServerURL); u != nil && (u.RawQuery != "" || u.Fragment != "") {
		ps = append(ps, sec.Problem("openshiftApiServerUrl", "must be the API server's base URL without a query or fragment, got %q", c.APIServerURL))
	}
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one OpenShift environment: the OAuth2 engine with OpenShift's profile,
// the access token as the session, and token deletion on logout.
type Provider struct {
	*oauth2engine.Engine
	apiServer string
	now       func() time.Time
}

var _ providers.Logouter = (*Provider)(nil)

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.APIServerURL == "" {
		return nil, fmt.Errorf("openshift: config has no API server URL")
	}
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.AuthorizationURL, cfg.TokenURL
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes}
	// OpenShift's OAuth server accepts S256 PKCE from every client; Backstage sends none.
	ec.PKCE = true
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{
		FetchProfile: fetchProfile(cfg.APIServerURL + UserPath),
		// OpenShift issues no refresh token: the access token is the session.
		KeepAccessToken: func(*oauth2engine.Token) bool { return true },
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("openshift: %w", err)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Provider{Engine: e, apiServer: cfg.APIServerURL, now: now}, nil
}

// Authenticate implements providers.OAuthProvider: the engine's sign-in, with the
// session ending when the access token does (Backstage's cookie outlives it).
func (p *Provider) Authenticate(ctx context.Context, req providers.CallbackRequest) (providers.Result, error) {
	start := p.now()
	res, err := p.Engine.Authenticate(ctx, req)
	if err != nil {
		return res, err
	}
	if exp := res.ProviderInfo.ExpiresInSeconds; exp > 0 && res.Session != nil {
		res.SessionExpiresAt = start.Add(time.Duration(exp) * time.Second)
	}
	return res, nil
}

// fetchProfile reads users/~ and maps it as the module does: displayName is
// metadata.name (required); the uid is the user's id (a refresh must find the same
// user).
func fetchProfile(userURL string) func(context.Context, *oauth2engine.Client, *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	return func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
		raw, _, err := c.GetJSON(ctx, userURL, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		return ProfileFromUser(raw)
	}
}

// ProfileFromUser maps a user.openshift.io/v1 User to the full profile; a User
// without a string metadata.name is refused (the module's zod schema).
func ProfileFromUser(raw map[string]any) (*oauth2engine.FullProfile, error) {
	md, _ := raw["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if name == "" {
		return nil, &oauth2engine.AnswerError{Reason: "the OpenShift user has no metadata.name"}
	}
	uid, _ := md["uid"].(string)
	return &oauth2engine.FullProfile{ID: uid, DisplayName: name, Raw: raw}, nil
}

// TokenObjectName is the name of an access token's oauthaccesstokens object:
// sha256~ + unpadded base64url(sha256(token without its sha256~ prefix)); "" for a
// token without the prefix (OpenShift 3 tokens, whose object is named by the token
// itself: it is not put in a URL).
func TokenObjectName(accessToken string) string {
	rest, ok := strings.CutPrefix(accessToken, tokenPrefix)
	if !ok || rest == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(rest))
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// Logout implements providers.Logouter: the session's access token is deleted at the
// API server with itself as the Bearer (the user may delete a token they hold, as
// `oc logout` does). A token already gone (401, 404) is not an error. Failures are
// returned for the router to log; the user is signed out anyway.
func (p *Provider) Logout(ctx context.Context, session []byte) error {
	s, err := oauth2engine.DecodeSession(session)
	if err != nil || s.AccessToken == "" {
		return nil
	}
	name := TokenObjectName(s.AccessToken)
	if name == "" {
		return fmt.Errorf("openshift: logout: the access token is not a sha256~ token; not deleted")
	}
	req, err := http.NewRequest(http.MethodDelete, p.apiServer+AccessTokenPath+name, nil)
	if err != nil {
		return fmt.Errorf("openshift: logout: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	req.Header.Set("Accept", "application/json")
	a, err := p.Client().Do(ctx, req)
	if err != nil {
		return fmt.Errorf("openshift: delete the access token: %s: %w", oauth2engine.Reason(err, p.Client().Timeout()), err)
	}
	if !a.OK() && a.Status != http.StatusUnauthorized && a.Status != http.StatusNotFound {
		return fmt.Errorf("openshift: delete the access token: %w", &oauth2engine.StatusError{Status: a.Status})
	}
	return nil
}
