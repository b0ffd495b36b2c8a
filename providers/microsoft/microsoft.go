package microsoft

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oidc"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Entra ID's and Microsoft Graph's endpoints, as passport-microsoft and the module use
// them.
const (
	LoginURL        = "https://login.microsoftonline.com"
	GraphProfileURL = "https://graph.microsoft.com/v1.0/me/"
	GraphPhotoURL   = "https://graph.microsoft.com/v1.0/me/photos/96x96/$value"
	// GraphAudience is Microsoft Graph's application id, the aud of its access tokens.
	GraphAudience = "00000003-0000-0000-c000-000000000000"
	// GraphProfileScope is the scope of the extra refresh grant that gets a Graph token
	// when the sign-in's token is for another resource (the module's
	// GRAPH_PROFILE_SCOPE).
	GraphProfileScope = "openid email User.Read offline_access"
	// ConsumersTenant is the tenant of personal Microsoft accounts.
	ConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

// RequiredScopes are always requested (Backstage's microsoft module).
var RequiredScopes = []string{"email", "openid", "offline_access", "user.read"}

// graphReadScopes make a Graph token worth a profile request (the module's
// hasGraphReadScope, compared lower-cased).
var graphReadScopes = []string{"https://graph.microsoft.com/user.read", "https://graph.microsoft.com/user.read.all", "user.read", "user.read.all"}

var (
	tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,254}$`)
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Config is one environment of auth.providers.microsoft.
type Config struct {
	oauth2engine.ClientConfig
	// TenantID is the directory: a tenant GUID, a verified domain, common,
	// organizations or consumers (Backstage puts it into the URLs unchecked; here it
	// must be one path segment of those characters).
	TenantID string `config:"tenantId,required"`
	// DomainHint is sent as domain_hint.
	DomainHint string `config:"domainHint"`
	// SkipUserProfile never calls Graph: the profile is the verified ID token's.
	SkipUserProfile bool `config:"skipUserProfile"`

	// Derived by Validate.
	AuthorizationURL, TokenURL, MetadataURL string
}

// NewConfig returns a Config with its defaults.
func NewConfig() *Config { return &Config{ClientConfig: oauth2engine.NewClientConfig()} }

// Module registers the Microsoft provider.
var Module = providers.Module{
	ID:        "microsoft",
	Kind:      providers.KindOAuth,
	NewConfig: func() providers.Config { return NewConfig() },
	Resolvers: []resolvers.Factory{EmailMatchingUserEntityAnnotation(), UserIDMatchingUserEntityAnnotation()},
}

// Validate implements providers.Config and derives the endpoints.
func (c *Config) Validate(sec config.Section) config.Problems {
	ps := c.Check(sec)
	if c.TenantID == "" {
		return ps // Decode reported the missing key
	}
	if !tenantRE.MatchString(c.TenantID) {
		return append(ps, sec.Problem("tenantId", "must be a tenant id (a GUID, a verified domain, common, organizations or consumers), got %q", c.TenantID))
	}
	base := LoginURL + "/" + c.TenantID
	c.AuthorizationURL, c.TokenURL, c.MetadataURL = base+"/oauth2/v2.0/authorize", base+"/oauth2/v2.0/token", base+"/v2.0"
	return ps
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) { return New(*c, deps) }

// Provider is one Entra ID environment: the OAuth2 engine with the module's scope
// transform, its Graph profile and its extra Graph grant.
type Provider struct {
	*oauth2engine.Engine
	cfg                   Config
	profileURL, photoURL  string
	log                   *slog.Logger
	requiredAndAdditional []string
}

// New returns the provider for a validated cfg; it does not touch the network.
func New(cfg Config, deps providers.Deps) (*Provider, error) {
	if cfg.AuthorizationURL == "" {
		return nil, fmt.Errorf("microsoft: config has no endpoints (use Validate)")
	}
	ec := cfg.Engine()
	ec.AuthorizationURL, ec.TokenURL = cfg.AuthorizationURL, cfg.TokenURL
	ec.Scopes = providers.ScopeSpec{Required: RequiredScopes, Additional: cfg.AdditionalScopes}
	// Entra ID accepts S256 PKCE from confidential clients and echoes the nonce.
	ec.PKCE, ec.Nonce = true, true
	v, err := oidc.NewIDTokenVerifierFor(cfg.MetadataURL, cfg.ClientID, nil, cfg.Timeout, deps)
	if err != nil {
		return nil, fmt.Errorf("microsoft: %w", err)
	}
	v.WithIssuers(oidc.IssuerOptions{Announced: announcedIssuer(cfg.TenantID), TenantClaim: "tid"})
	p := &Provider{cfg: cfg, profileURL: GraphProfileURL, photoURL: GraphPhotoURL, log: deps.Logger,
		requiredAndAdditional: append(slices.Clone(RequiredScopes), cfg.AdditionalScopes...)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.Engine, err = oauth2engine.New(ec, oauth2engine.Hooks{
		AuthorizeParams: p.authorizeParams,
		FetchProfile:    p.fetchProfile,
		IDTokenVerifier: v,
		RefreshScope:    p.transformScope,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("microsoft: %w", err)
	}
	return p, nil
}

// announcedIssuer accepts the issuer a tenant's discovery document announces when it is
// not the metadata URL's: the {tenantid} template for common and organizations, the
// personal-account tenant's GUID for consumers, a GUID for a tenant named by its
// domain. A tenant named by its GUID must announce exactly that (checked before).
func announcedIssuer(tenant string) func(string) bool {
	return func(iss string) bool {
		rest, ok := strings.CutPrefix(iss, LoginURL+"/")
		tid, ok2 := strings.CutSuffix(rest, "/v2.0")
		if !ok || !ok2 {
			return false
		}
		switch t := strings.ToLower(tenant); {
		case t == "common" || t == "organizations":
			return tid == "{tenantid}"
		case t == "consumers":
			return tid == ConsumersTenant
		case guidRE.MatchString(tenant):
			return false
		}
		return guidRE.MatchString(tid)
	}
}

func (p *Provider) authorizeParams(providers.StartRequest) oauth2engine.Params {
	if p.cfg.DomainHint == "" {
		return nil
	}
	return oauth2engine.Params{{Key: "domain_hint", Value: p.cfg.DomainHint}}
}

// Start implements providers.OAuthProvider with the module's scope transform.
func (p *Provider) Start(ctx context.Context, req providers.StartRequest) (providers.StartResult, error) {
	req.Scope = p.transformScope(req.Scope)
	return p.Engine.Start(ctx, req)
}

// transformScope is the module's scope transform: when a requested scope names a
// resource (contains "/"), only the requested scopes and offline_access are sent, since
// an Entra ID token is for one resource; otherwise the scope is left as it is. The
// router hands over the scope already merged (requested, then the required and
// additional scopes not among them), so the requested part is recovered as the
// shortest prefix that merges to the same scope (see requestedPart).
func (p *Provider) transformScope(merged string) string {
	scopes := strings.Fields(merged)
	requested := requestedPart(scopes, p.requiredAndAdditional)
	if !slices.ContainsFunc(requested, func(s string) bool { return strings.Contains(s, "/") }) {
		return merged
	}
	out := slices.Clone(requested)
	if !slices.Contains(out, "offline_access") {
		out = append(out, "offline_access")
	}
	return strings.Join(out, " ")
}

// requestedPart returns the shortest prefix of scopes that, merged with tail (first
// occurrence wins), gives scopes again. A requested scope that is also required and
// comes right before the required ones is counted as required: it is then left out of
// a resource request, which Entra ID does not need it for.
func requestedPart(scopes, tail []string) []string {
	for k := 0; k <= len(scopes); k++ {
		if slices.Equal(merge(scopes[:k], tail), scopes) {
			return scopes[:k]
		}
	}
	return scopes
}

func merge(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for _, l := range [][]string{a, b} {
		for _, s := range l {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// fetchProfile is the strategy's userProfile plus the module's
// withProfileFetchedViaGraph: Graph for a Graph token; for another token, an extra
// refresh grant for a Graph token (its refresh token replaces the session's, tok is
// updated so that the engine seals it); nothing with skipUserProfile.
func (p *Provider) fetchProfile(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	if p.cfg.SkipUserProfile {
		return &oauth2engine.FullProfile{}, nil
	}
	at := tok.AccessToken
	if !wantsGraph(at) {
		if tok.RefreshToken == "" {
			return &oauth2engine.FullProfile{}, nil
		}
		gt, err := p.Engine.RefreshGrant(ctx, tok.RefreshToken, GraphProfileScope)
		if err != nil {
			return nil, &oauth2engine.AnswerError{Reason: "no Microsoft Graph token: " + backstageerr.MessageOf(err)}
		}
		if gt.RefreshToken != "" {
			tok.RefreshToken = gt.RefreshToken
		}
		if !wantsGraph(gt.AccessToken) {
			return &oauth2engine.FullProfile{}, nil
		}
		at = gt.AccessToken
	}
	return p.graphProfile(ctx, c, at)
}

// wantsGraph is the module's skipUserProfile test, negated: a JWT access token for
// Graph with a User.Read scope, or a token that is not a JWT (personal accounts' Graph
// tokens are opaque). The token is decoded without verification only to decide whether
// to ask Graph, which checks it.
func wantsGraph(accessToken string) bool {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(accessToken, claims); err != nil {
		return true
	}
	if aud, _ := claims["aud"].(string); aud != GraphAudience {
		return false
	}
	scp, _ := claims["scp"].(string)
	for _, s := range strings.Fields(scp) {
		if slices.Contains(graphReadScopes, strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// graphProfile reads /me and, at the same time, the photo.
func (p *Provider) graphProfile(ctx context.Context, c *oauth2engine.Client, accessToken string) (*oauth2engine.FullProfile, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	photo := make(chan string, 1)
	go func() { photo <- p.photo(pctx, c, accessToken) }()
	raw, _, err := c.GetJSON(ctx, p.profileURL, accessToken)
	if err != nil {
		cancel()
		<-photo
		return nil, err
	}
	fp := ProfileFromGraph(raw)
	if pic := <-photo; pic != "" {
		fp.Photos = []string{pic}
	}
	return fp, nil
}

// photo is the user's 96x96 photo as a data: URL, or "" when Graph has none (404),
// answers anything but a 200 image, or cannot be reached: a photo never fails a
// sign-in.
func (p *Provider) photo(ctx context.Context, c *oauth2engine.Client, accessToken string) string {
	req, err := http.NewRequest(http.MethodGet, p.photoURL, nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	a, err := c.Do(ctx, req)
	if err != nil {
		p.log.Debug("microsoft graph photo request failed", "reason", oauth2engine.Reason(err, c.Timeout()))
		return ""
	}
	mt, _, err := mime.ParseMediaType(a.Header.Get("Content-Type"))
	if a.Status != http.StatusOK || err != nil || !strings.HasPrefix(mt, "image/") || len(a.Body) == 0 {
		if a.Status != http.StatusNotFound {
			p.log.Debug("microsoft graph photo not used", "status", a.Status, "contentType", mt)
		}
		return ""
	}
	return "data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(a.Body)
}

// ProfileFromGraph maps Graph's /me as passport-microsoft does: id, displayName,
// emails [mail, else userPrincipalName].
func ProfileFromGraph(raw map[string]any) *oauth2engine.FullProfile {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	fp := &oauth2engine.FullProfile{ID: str("id"), DisplayName: str("displayName"), Raw: raw}
	if email := cmp.Or(str("mail"), str("userPrincipalName")); email != "" {
		fp.Emails = []oauth2engine.Email{{Value: email}}
	}
	return fp
}
