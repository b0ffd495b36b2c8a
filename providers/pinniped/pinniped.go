package pinniped

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
)

// RequiredScopes are always requested (Backstage's pinniped module).
var RequiredScopes = []string{"openid", "pinniped:request-audience", "username", "offline_access"}

// IDTokenAlg is the Supervisor's ID token algorithm (the module's
// id_token_signed_response_alg).
const IDTokenAlg = "ES256"

// maxAudienceLen bounds the audience query parameter.
const maxAudienceLen = 256

// Config is one environment of auth.providers.pinniped.
type Config struct {
	FederationDomain string `config:"federationDomain,required"`
	ClientID         string `config:"clientId,required"`
	ClientSecret     string `config:"clientSecret,required"`
	// AdditionalScopes: a string split on whitespace, commas and pipes, or a list.
	AdditionalScopes config.StringOrList `config:"additionalScopes"`
	// AllowedAudiences (ours) lists the audiences /start may ask a cluster token for;
	// empty: any (as in Backstage; the Supervisor still decides).
	AllowedAudiences config.StringOrList `config:"allowedAudiences"`
	// Timeout bounds each upstream call (ours; default 10s).
	Timeout time.Duration `config:"timeout"`

	oidc *oidc.Config
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{Timeout: oidc.DefaultTimeout} }

// Module registers the Pinniped provider (only the common resolvers, as in Backstage).
var Module = providers.Module{
	ID:        "pinniped",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
}

// Validate implements providers.Config.
func (c *Config) Validate(sec config.Section) config.Problems {
	var ps config.Problems
	if sec.Has("scope") {
		ps = append(ps, sec.Problem("scope", "%s", oauth2engine.ScopeOptionRemoved("pinniped")))
	}
	if sec.Has("timeout") && c.Timeout <= 0 {
		ps = append(ps, sec.Problem("timeout", "must be greater than zero"))
	}
	for _, a := range c.AllowedAudiences {
		if msg := audienceProblem(a); msg != "" {
			ps = append(ps, sec.Problem("allowedAudiences", "%q %s", a, msg))
		}
	}
	if c.FederationDomain == "" {
		return ps
	}
	disc, iss, err := oidc.DiscoveryURL(strings.TrimSuffix(strings.TrimSpace(c.FederationDomain), "/"))
	if err == nil && strings.Contains(c.FederationDomain, "/.well-known/") {
		err = errors.New("must be the FederationDomain's issuer URL, not its discovery document")
	}
	if err != nil {
		return append(ps, sec.Problem("federationDomain", "%v", err))
	}
	oc := oidc.NewConfig()
	oc.MetadataURL, oc.DiscoveryURL, oc.ExpectedIssuer = c.FederationDomain, disc, iss
	oc.ClientID, oc.ClientSecret = c.ClientID, c.ClientSecret
	oc.TokenEndpointAuthMethod = oidc.AuthMethodClientSecretBasic
	oc.TokenSignedResponseAlgs = []string{IDTokenAlg}
	oc.AdditionalScopes = c.AdditionalScopes
	oc.Timeout = c.Timeout
	c.oidc = oc
	return ps
}

// audienceProblem says what is wrong with an audience, "" when nothing is.
func audienceProblem(a string) string {
	switch {
	case a == "":
		return "is empty"
	case len(a) > maxAudienceLen:
		return fmt.Sprintf("is longer than %d characters", maxAudienceLen)
	case upstream.Printable(a, maxAudienceLen) != a || strings.ContainsAny(a, " \t"):
		return "has characters an audience cannot have (spaces or control characters)"
	}
	return ""
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Pinniped environment: the oidc provider with the Supervisor's
// algorithm, Backstage's scopes and empty profile, and the cluster token exchange.
type Provider struct {
	inner      *oidc.Provider
	additional []string
	audiences  []string
	now        func() time.Time
}

var (
	_ providers.OAuthProvider = (*Provider)(nil)
	_ providers.Refresher     = (*Provider)(nil)
	_ providers.Logouter      = (*Provider)(nil)
	_ providers.Scoper        = (*Provider)(nil)
)

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.oidc == nil {
		return nil, errors.New("pinniped: config has no federation domain (use Validate)")
	}
	inner, err := oidc.New(*cfg.oidc, deps)
	if err != nil {
		return nil, fmt.Errorf("pinniped: %w", err)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Provider{inner: inner, additional: cfg.AdditionalScopes, audiences: cfg.AllowedAudiences, now: now}, nil
}

// Scopes implements providers.Scoper.
func (p *Provider) Scopes() providers.ScopeSpec {
	return providers.ScopeSpec{Required: slices.Clone(RequiredScopes), Additional: slices.Clone(p.additional)}
}

// Start implements providers.OAuthProvider: the authorize URL (PKCE, nonce), with the
// /start query's audience added to the state.
func (p *Provider) Start(ctx context.Context, req providers.StartRequest) (providers.StartResult, error) {
	if aud := req.Query.Get("audience"); aud != "" {
		if msg := audienceProblem(aud); msg != "" {
			return providers.StartResult{}, backstageerr.Input("The audience %s", msg)
		}
		if len(p.audiences) > 0 && !slices.Contains(p.audiences, aud) {
			return providers.StartResult{}, backstageerr.NotAllowed("The audience %q is not allowed for this provider", aud)
		}
		req.State = withAudience(req.State, aud, req.Secrets)
	}
	return p.inner.Start(ctx, req)
}

// State fields: Backstage's audience, and ours binding it to the sign-in.
const (
	stateAudience    = "audience"
	stateAudienceMAC = "audienceMac"
)

// audienceMAC binds an audience to one sign-in: only the browser holding that
// sign-in's nonce cookie makes the router hand back the secrets it is keyed with.
func audienceMAC(aud string, s providers.FlowSecrets) string {
	m := hmac.New(sha256.New, []byte(s.PKCEVerifier+"\x00"+s.Nonce))
	m.Write([]byte("pinniped-audience\x00" + aud))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// withAudience appends the audience (and its MAC) to a Backstage state: the hex of a
// query string, as encodeOAuthState writes it.
func withAudience(state, aud string, s providers.FlowSecrets) string {
	extra := "&" + stateAudience + "=" + url.QueryEscape(aud) + "&" + stateAudienceMAC + "=" + audienceMAC(aud, s)
	return state + hex.EncodeToString([]byte(extra))
}

// audienceOf reads the audience back from the callback's state; a state whose
// audience does not carry this sign-in's MAC is refused.
func audienceOf(state string, s providers.FlowSecrets) (string, error) {
	raw, err := hex.DecodeString(state)
	if err != nil {
		return "", nil // the router decoded the state; an odd one carries no audience of ours
	}
	q, _ := url.ParseQuery(string(raw))
	aud := q.Get(stateAudience)
	if aud == "" && !q.Has(stateAudienceMAC) {
		return "", nil
	}
	if !hmac.Equal([]byte(q.Get(stateAudienceMAC)), []byte(audienceMAC(aud, s))) || len(q[stateAudience]) > 1 {
		return "", backstageerr.NotAllowed("The audience in the OAuth state does not belong to this sign-in")
	}
	return aud, nil
}

// session is what the router seals: the oidc provider's session and the audience.
type session struct {
	V        int             `json:"v"`
	Audience string          `json:"aud,omitempty"`
	Inner    json.RawMessage `json:"oidc"`
}

func (s session) encode() ([]byte, error) { s.V = 1; return json.Marshal(s) }

func decodeSession(b []byte) (session, error) {
	var s session
	if err := json.Unmarshal(b, &s); err != nil || s.V != 1 || len(s.Inner) == 0 {
		return session{}, errors.New("unreadable pinniped session")
	}
	return s, nil
}

// Authenticate implements providers.OAuthProvider: code exchange and ID token
// verification (oidc), then the cluster token exchange when the state has an audience.
func (p *Provider) Authenticate(ctx context.Context, req providers.CallbackRequest) (providers.Result, error) {
	aud, err := audienceOf(req.Params.Get("state"), req.Secrets)
	if err != nil {
		return providers.Result{}, err
	}
	res, err := p.inner.Authenticate(ctx, req)
	if err != nil {
		return providers.Result{}, err
	}
	if err := p.clusterToken(ctx, &res, aud); err != nil {
		return providers.Result{}, err
	}
	if res.Session != nil {
		if res.Session, err = (session{Audience: aud, Inner: res.Session}).encode(); err != nil {
			return providers.Result{}, fmt.Errorf("pinniped: encode session: %w", err)
		}
	}
	return res, nil
}

// Refresh implements providers.Refresher: oidc's refresh, then the exchange again for
// a session with an audience.
func (p *Provider) Refresh(ctx context.Context, req providers.RefreshRequest) (providers.Result, error) {
	s, err := decodeSession(req.Session)
	if err != nil {
		return providers.Result{}, backstageerr.Authentication("The session could not be read, please sign in again")
	}
	res, err := p.inner.Refresh(ctx, providers.RefreshRequest{Session: s.Inner, Scope: req.Scope})
	if err != nil {
		return providers.Result{}, err
	}
	if err := p.clusterToken(ctx, &res, s.Audience); err != nil {
		return providers.Result{}, err
	}
	if res.Session != nil {
		s.Inner = res.Session
		if res.Session, err = s.encode(); err != nil {
			return providers.Result{}, fmt.Errorf("pinniped: encode session: %w", err)
		}
	}
	return res, nil
}

// clusterToken shapes an oidc result as the module's: an empty profile, and with an
// audience the exchanged cluster token as providerInfo.idToken (expiresInSeconds then
// counts down to the earlier of the two expiries).
func (p *Provider) clusterToken(ctx context.Context, res *providers.Result, aud string) error {
	res.Profile = providers.Profile{}
	if aud == "" {
		return nil
	}
	sub, _ := res.Claims["sub"].(string)
	tok, err := p.inner.ExchangeForJWT(ctx, res.ProviderInfo.AccessToken, aud, sub)
	if err != nil {
		if _, ok := backstageerr.As(err); ok {
			return err
		}
		return backstageerr.Plain("Failed to get cluster specific ID token for %q: RFC8693 token exchange failed (%s)", aud, err.Error())
	}
	res.ProviderInfo.IDToken = tok.Raw
	left := max(int64(math.Round(tok.Expiry.Sub(p.now()).Seconds())), 0)
	if res.ProviderInfo.ExpiresInSeconds == 0 || left < res.ProviderInfo.ExpiresInSeconds {
		res.ProviderInfo.ExpiresInSeconds = left
	}
	return nil
}

// Logout implements providers.Logouter (oidc's: a revocation when the Supervisor
// announces a revocation_endpoint).
func (p *Provider) Logout(ctx context.Context, b []byte) error {
	s, err := decodeSession(b)
	if err != nil {
		return nil
	}
	return p.inner.Logout(ctx, s.Inner)
}
