package bitbucketserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
)

// Paths under https://{host}.
const (
	AuthorizePath = "/rest/oauth2/latest/authorize"
	TokenPath     = "/rest/oauth2/latest/token"
	WhoAmIPath    = "/plugins/servlet/applinks/whoami"
	UsersPath     = "/rest/api/latest/users/"
)

// Messages of Backstage's module (ours add the reason in parentheses).
const (
	MsgNoUsername = "Failed to retrieve the username of the logged in user"
	msgNoUser     = "Failed to retrieve the user '%s'"
)

// maxUsername bounds the X-AUSERNAME header we accept (Bitbucket's limit is 255).
const maxUsername = 255

// Config is one environment of auth.providers.bitbucketServer.
type Config struct {
	oauth2engine.ClientConfig
	// Host is the Bitbucket host name, with an optional port (https:// is implied).
	Host string `config:"host,required"`

	// Derived by Validate: https://{host}.
	BaseURL string
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the Bitbucket Server provider. It has no resolvers of its own (see
// the package doc).
var Module = providers.Module{
	ID:        "bitbucketServer",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
}

// Validate implements providers.Config and derives the base URL.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	if c.Host == "" {
		return ps
	}
	host := strings.TrimSpace(c.Host)
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" || u.User != nil || strings.ContainsAny(host, "/?#@") {
		return append(ps, sec.Problem("host", "must be a host name with an optional port, such as bitbucket.example.com (https:// is implied), got %q", c.Host))
	}
	c.BaseURL = "https://" + host
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Bitbucket Server environment.
type Provider struct {
	*oauth2engine.Engine
}

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("bitbucketServer: config has no host (use Validate)")
	}
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.BaseURL+AuthorizePath, cfg.BaseURL+TokenPath
	ec.Scopes = providers.ScopeSpec{Additional: cfg.AdditionalScopes}
	e, err := oauth2engine.New(ec, oauth2engine.Hooks{FetchProfile: fetchProfile(cfg.BaseURL)}, deps)
	if err != nil {
		return nil, fmt.Errorf("bitbucketServer: %w", err)
	}
	return &Provider{Engine: e}, nil
}

// fetchProfile is the module's fetchProfile: whoami's X-AUSERNAME, then the user.
func fetchProfile(base string) func(context.Context, *oauth2engine.Client, *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	return func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
		req, err := http.NewRequest(http.MethodGet, base+WhoAmIPath, nil)
		if err != nil {
			return nil, backstageerr.Plain(MsgNoUsername)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		a, err := c.Do(ctx, req)
		if err == nil && !a.OK() {
			err = &oauth2engine.StatusError{Status: a.Status}
		}
		if err != nil {
			return nil, failure(err, "%s (%s)", MsgNoUsername, oauth2engine.Reason(err, c.Timeout()))
		}
		username := strings.TrimSpace(a.Header.Get("X-Ausername"))
		if !validUsername(username) {
			reason := "no X-AUSERNAME header"
			if username != "" {
				reason = "an unusable X-AUSERNAME header"
			}
			return nil, backstageerr.Plain("%s (%s)", MsgNoUsername, reason)
		}
		raw, _, err := c.GetJSON(ctx, base+UsersPath+url.PathEscape(username)+"?avatarSize=256", tok.AccessToken)
		if err != nil {
			return nil, failure(err, msgNoUser+" (%s)", username, oauth2engine.Reason(err, c.Timeout()))
		}
		fp := ProfileFromUser(base, raw)
		if fp.ID == "" {
			return nil, backstageerr.Plain(msgNoUser+" (the answer has no id)", username)
		}
		return fp, nil
	}
}

// failure is a plain Error with this message that keeps cause in its chain (so that
// a 401 on refresh reads as an invalid access token) without quoting it: a transport
// error names internal addresses.
func failure(cause error, format string, args ...any) error {
	return &backstageerr.Error{Name: backstageerr.NameError, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// validUsername accepts a printable user name of at most maxUsername bytes.
func validUsername(s string) bool {
	if s == "" || len(s) > maxUsername {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ProfileFromUser maps a /rest/api/latest/users/{name} object as the module does: id,
// displayName, username (name), emails ([emailAddress]) and photos (base + avatarUrl,
// or an absolute avatarUrl as it is).
func ProfileFromUser(base string, raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{ID: oauth2engine.IDString(raw["id"]), DisplayName: str("displayName"), Username: str("name"), Raw: raw}
	if email := str("emailAddress"); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	if avatar := str("avatarUrl"); avatar != "" {
		if u, err := url.Parse(avatar); err == nil && u.IsAbs() && (u.Scheme == "https" || u.Scheme == "http") {
			fp.Photos = []string{avatar}
		} else if strings.HasPrefix(avatar, "/") {
			fp.Photos = []string{base + avatar}
		}
	}
	return fp
}
