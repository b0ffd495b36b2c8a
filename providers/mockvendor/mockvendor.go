package mockvendor

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Personality is the vendor the mock imitates.
type Personality int

const (
	// GitHub is github.com (and GitHub Enterprise Server under /api/v3).
	GitHub Personality = iota + 1
	// OAuth2 is a plain RFC 6749 authorization server (no profile endpoint).
	OAuth2
	// Google is accounts.google.com, www.googleapis.com and oauth2.googleapis.com.
	Google
	// Microsoft is Entra ID (login.microsoftonline.com) and Microsoft Graph
	// (graph.microsoft.com).
	Microsoft
	// Okta is an Okta org (the org authorization server and custom ones).
	Okta
	// Auth0 is an Auth0 tenant (its domain reached over TLS).
	Auth0
	// OneLogin is a OneLogin subdomain's OpenID Connect endpoints (/oidc/2).
	OneLogin
	// GitLab is gitlab.com or a self-managed GitLab (its base URL).
	GitLab
	// Bitbucket is Bitbucket Cloud (bitbucket.org and api.bitbucket.org).
	Bitbucket
	// BitbucketServer is Bitbucket Server / Data Center (one host).
	BitbucketServer
	// Atlassian is Atlassian's OAuth 2.0 (3LO): auth.atlassian.com and api.atlassian.com.
	Atlassian
	// GCPIAP is Google Cloud IAP's key server (www.gstatic.com/iap/verify/...).
	GCPIAP
	// AWSALB is the AWS load balancer key server of a region
	// (public-keys.auth.elb.<region>.amazonaws.com/<kid>).
	AWSALB
	// OAuth2ProxyIdP is the OpenID Connect IdP behind an oauth2-proxy (discovery, JWKS).
	OAuth2ProxyIdP
	// CFAccess is Cloudflare Access (<team>.cloudflareaccess.com): the team's certs and
	// get-identity, and CFAccessTokenPath to mint application tokens.
	CFAccess
	// EasyAuth is Azure App Service Easy Auth in front of an app: Microsoft's Entra ID
	// endpoints, and EasyAuthHeadersPath to mint the headers App Service injects.
	EasyAuth
	// OpenShift is an OpenShift cluster's OAuth server and API server (users/~,
	// oauthaccesstokens).
	OpenShift
	// Pinniped is a Pinniped Supervisor FederationDomain (ES256 ID tokens, RFC 8693
	// exchange for cluster-scoped tokens).
	Pinniped
)

var personalityNames = map[Personality]string{GitHub: "github", OAuth2: "oauth2", Google: "google", Microsoft: "microsoft", Okta: "okta", Auth0: "auth0", OneLogin: "onelogin",
	GitLab: "gitlab", Bitbucket: "bitbucket", BitbucketServer: "bitbucketServer", Atlassian: "atlassian",
	GCPIAP: "gcpiap", AWSALB: "awsalb", OAuth2ProxyIdP: "oauth2proxy-idp", CFAccess: "cfaccess", EasyAuth: "easyauth", OpenShift: "openshift", Pinniped: "pinniped"}

func (p Personality) String() string {
	if n, ok := personalityNames[p]; ok {
		return n
	}
	return "unknown"
}

// ParsePersonality reads a personality name (github, oauth2, google, microsoft).
func ParsePersonality(s string) (Personality, bool) {
	for p, n := range personalityNames {
		if n == s {
			return p, true
		}
	}
	return 0, false
}

// Personalities lists the personality names.
func Personalities() []string {
	names := make([]string, 0, len(personalityNames))
	for _, n := range personalityNames {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// User is one account of the mock vendor.
type User struct {
	// ID is GitHub's numeric id; NodeID its GraphQL node id (github.com/user-id).
	ID     int64  `yaml:"id" json:"id"`
	NodeID string `yaml:"nodeId" json:"node_id"`
	Login  string `yaml:"login" json:"login"`
	// Name and Email are the public profile fields ("" is null, as GitHub answers for
	// a user without a public name or email).
	Name      string `yaml:"name" json:"name"`
	Email     string `yaml:"email" json:"email"`
	AvatarURL string `yaml:"avatarUrl" json:"avatar_url"`

	// OpenID Connect vendors (Google, Microsoft).

	// GivenName and FamilyName are the name's parts (Graph's givenName and surname).
	GivenName  string `yaml:"givenName" json:"given_name,omitempty"`
	FamilyName string `yaml:"familyName" json:"family_name,omitempty"`
	// Sub is the ID token's subject: Google's numeric account id, Entra ID's pairwise
	// subject ("" derives one from ID).
	Sub string `yaml:"sub" json:"sub,omitempty"`
	// EmailVerified is Google's email_verified (nil: true).
	EmailVerified *bool `yaml:"emailVerified" json:"email_verified,omitempty"`
	// HostedDomain is Google's hd claim (a Workspace account).
	HostedDomain string `yaml:"hd" json:"hd,omitempty"`
	// ObjectID is the Entra ID object id: Graph's /me id and the oid claim ("" derives
	// one from ID).
	ObjectID string `yaml:"objectId" json:"oid,omitempty"`
	// UPN is the Entra ID userPrincipalName ("" is <login>@DefaultEntraDomain). Email
	// is Graph's mail ("" is null).
	UPN string `yaml:"upn" json:"upn,omitempty"`
	// TenantID is the user's Entra ID tenant (default DefaultEntraTenant;
	// EntraConsumersTenant is a personal Microsoft account, whose Graph tokens are
	// opaque).
	TenantID string `yaml:"tenantId" json:"tid,omitempty"`
	// Photo: Graph has a profile photo for the user (else its 404 ImageNotFound).
	Photo bool `yaml:"photo" json:"photo,omitempty"`
}

// DefaultUsers are alice (public email, in the catalog of the tests and the demo) and
// bob (no public name or email, as many GitHub users; no Graph mail or photo).
func DefaultUsers() []User {
	return []User{
		{ID: 1001, NodeID: "MDQ6VXNlcjEwMDE=", Login: "alice", Name: "Alice Smith", Email: "alice@example.com", AvatarURL: "https://avatars.githubusercontent.com/u/1001?v=4",
			GivenName: "Alice", FamilyName: "Smith", Photo: true},
		{ID: 1002, NodeID: "MDQ6VXNlcjEwMDI=", Login: "bob", AvatarURL: "https://avatars.githubusercontent.com/u/1002?v=4"},
	}
}

// Options configure the mock. Zero values take the defaults noted.
type Options struct {
	// Personality (default GitHub).
	Personality Personality
	// ClientID and ClientSecret of the one registered client (default backstage-client
	// / backstage-secret).
	ClientID     string
	ClientSecret string
	// RedirectURIs, when set, is the allowlist for redirect_uri.
	RedirectURIs []string
	// Users (default DefaultUsers()). Without LoginForm the first one signs in.
	Users []User
	// LoginForm serves an HTML form at the authorize endpoint to pick a user.
	LoginForm bool
	// ExpiringTokens (GitHub): a GitHub App with expiring user tokens: ghu_ access
	// tokens with expires_in, ghr_ single-use refresh tokens. Without it, an OAuth
	// app's gho_ token that never expires and no refresh token. OAuth2 always issues
	// refresh tokens.
	ExpiringTokens bool
	// AccessTokenTTL (default 8h for GitHub, 1h for OAuth2) and CodeTTL (default 10m,
	// GitHub's).
	AccessTokenTTL time.Duration
	CodeTTL        time.Duration
	// Now (default time.Now); Logger (default discard).
	Now    func() time.Time
	Logger *slog.Logger
}

// Fault makes the mock misbehave. SetFault arms it: an authorize fault is used by the
// next authorize request, a token fault by the next token request, a profile fault by
// the next profile request; each is cleared once used unless Permanent.
type Fault struct {
	Permanent bool `json:"permanent,omitempty"`
	// AuthorizeError makes the authorize endpoint redirect back with error=<it>
	// (access_denied: the user denied consent).
	AuthorizeError            string `json:"error,omitempty"`
	AuthorizeErrorDescription string `json:"error_description,omitempty"`
	// TokenStatus makes the token endpoint answer this status with a vendor-shaped
	// error page or body (which must never reach a user); TokenDelay delays it.
	TokenStatus int           `json:"token_status,omitempty"`
	TokenDelay  time.Duration `json:"token_delay,omitempty"`
	// ProfileStatus and ProfileDelay do the same for the profile endpoint.
	ProfileStatus int           `json:"profile_status,omitempty"`
	ProfileDelay  time.Duration `json:"profile_delay,omitempty"`
	// Login signs in this user (by login) instead of the one chosen at authorize.
	Login string `json:"login,omitempty"`
	// ID token faults of the next token answer (OpenID Connect vendors): signed with a
	// key the JWKS does not have, or with another iss or aud.
	BadSignature    bool   `json:"bad_sig,omitempty"`
	IDTokenIssuer   string `json:"id_token_iss,omitempty"`
	IDTokenAudience string `json:"id_token_aud,omitempty"`
	// RevokeStatus makes Google's revocation endpoint answer this status; PhotoStatus
	// Graph's photo endpoint.
	RevokeStatus int `json:"revoke_status,omitempty"`
	PhotoStatus  int `json:"photo_status,omitempty"`
}

func (f Fault) authorize() bool { return f.AuthorizeError != "" }
func (f Fault) token() bool {
	return f.TokenStatus != 0 || f.TokenDelay != 0 || f.Login != "" || f.BadSignature || f.IDTokenIssuer != "" || f.IDTokenAudience != ""
}
func (f Fault) profile() bool { return f.ProfileStatus != 0 || f.ProfileDelay != 0 }
func (f Fault) revoke() bool  { return f.RevokeStatus != 0 }
func (f Fault) photo() bool   { return f.PhotoStatus != 0 }

// Request is one recorded request (the mock's own /_mock/ endpoints are not recorded).
type Request = mockkit.Request

type code struct {
	login, redirectURI, challenge, scope string
	// nonce is echoed in the ID token; tenant is the Entra ID tenant of the authorize
	// path; offline is Google's access_type=offline (a refresh token is issued).
	nonce, tenant string
	offline       bool
	expires       time.Time
}

type grant struct {
	login, scope string
	tenant       string    // Entra ID: the tenant of the authorize path
	expires      time.Time // zero: never
}

// Server is one mock vendor.
type Server struct {
	// Recorder records every request but the mock's own (Requests, RequestsTo,
	// ResetRequests).
	mockkit.Recorder
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	codes   map[string]*code
	access  map[string]*grant
	refresh map[string]*grant
	faults  []Fault
	down    bool
	handler http.Handler
}

// New returns a mock vendor.
func New(opts Options) *Server {
	if opts.Personality == 0 {
		opts.Personality = GitHub
	}
	if opts.ClientID == "" {
		opts.ClientID = "backstage-client"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "backstage-secret"
	}
	if len(opts.Users) == 0 {
		opts.Users = DefaultUsers()
	}
	if opts.AccessTokenTTL == 0 {
		opts.AccessTokenTTL = time.Hour
		if opts.Personality == GitHub {
			opts.AccessTokenTTL = 8 * time.Hour
		}
	}
	if opts.CodeTTL == 0 {
		opts.CodeTTL = 10 * time.Minute
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now,
		codes: map[string]*code{}, access: map[string]*grant{}, refresh: map[string]*grant{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.Recorder.Now = s.now
	if opts.Personality != GitHub && opts.Personality != OAuth2 {
		// Generate the signing keys now, not inside the first token request's time.
		mockkit.Key(0)
		mockkit.Key(1)
	}
	s.handler = s.routes()
	return s
}

// Options returns the effective options.
func (s *Server) Options() Options { return s.opts }

// Handler serves the mock.
func (s *Server) Handler() http.Handler { return s.handler }

// TB is the part of testing.TB that Start needs (the mock's binary does not link
// testing).
type TB = mockkit.TB

// Start serves the mock on 127.0.0.1:0 until the test ends and returns its base URL.
func (s *Server) Start(t TB) string {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// SetFault arms f (see Fault). Faults for different endpoints can be armed together.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ClearFault disarms every fault.
func (s *Server) ClearFault() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first armed fault that applies to an endpoint (and clears it
// unless permanent).
func (s *Server) takeFault(applies func(Fault) bool) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if applies(f) {
			if !f.Permanent {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return Fault{}
}

// authorizeAnswers are a vendor's answers in authorizeUser.
type authorizeAnswers struct {
	// vendor names the login form.
	vendor string
	// badPKCE are the redirect's parameters for a challenge that is not S256.
	badPKCE url.Values
	// denied are the redirect's parameters for a denied consent (error=access_denied
	// is added).
	denied url.Values
}

// authorizeUser runs the steps every personality's authorize endpoint shares after its
// own checks: the PKCE challenge, an armed authorize fault, and the user's choice. It
// returns the user signing in, or false once it has answered.
func (s *Server) authorizeUser(w http.ResponseWriter, r *http.Request, ru *url.URL, a authorizeAnswers) (User, bool) {
	state := r.Form.Get("state")
	if !mockkit.ChallengeOK(r.Form.Get("code_challenge"), r.Form.Get("code_challenge_method")) {
		mockkit.RedirectBack(w, r, ru, state, a.badPKCE)
		return User{}, false
	}
	if s.authorizeFault(w, r, ru, state, a.denied) {
		return User{}, false
	}
	u, denied, handled := s.pickUser(w, r, a.vendor)
	switch {
	case handled:
		return User{}, false
	case denied:
		p := url.Values{"error": {"access_denied"}}
		for k, v := range a.denied {
			p[k] = v
		}
		mockkit.RedirectBack(w, r, ru, state, p)
		return User{}, false
	}
	return u, true
}

// authorizeFault answers the authorize request with an armed authorize fault, if any:
// a redirect back with its error and description (else, for access_denied, the
// vendor's own parameters in denied). It reports whether it answered.
func (s *Server) authorizeFault(w http.ResponseWriter, r *http.Request, ru *url.URL, state string, denied url.Values) bool {
	f := s.takeFault(Fault.authorize)
	if f.AuthorizeError == "" {
		return false
	}
	p := url.Values{"error": {f.AuthorizeError}}
	switch {
	case f.AuthorizeErrorDescription != "":
		p.Set("error_description", f.AuthorizeErrorDescription)
	case f.AuthorizeError == "access_denied":
		for k, v := range denied {
			p[k] = v
		}
	}
	mockkit.RedirectBack(w, r, ru, state, p)
	return true
}

// clientCredentials are the client id and secret of a token request: HTTP Basic, else
// the form's client_id and client_secret.
func clientCredentials(r *http.Request) (id, secret string) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id, secret
}

// isClient compares credentials with the registered client's in constant time.
func (s *Server) isClient(id, secret string) (idOK, secretOK bool) {
	return subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) == 1, subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) == 1
}

// SetUnavailable makes every vendor endpoint (not /_mock/) answer 503.
func (s *Server) SetUnavailable(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// RevokeUser ends every access and refresh token of the user with this login (the
// user revoked the app's authorization at the vendor); it returns how many tokens
// ended.
func (s *Server) RevokeUser(login string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range []map[string]*grant{s.access, s.refresh} {
		for k, g := range m {
			if g.login == login {
				delete(m, k)
				n++
			}
		}
	}
	return n
}

func (s *Server) user(login string) (User, bool) {
	for _, u := range s.opts.Users {
		if strings.EqualFold(u.Login, login) {
			return u, true
		}
	}
	return User{}, false
}

// newCode stores an authorization code for login.
func (s *Server) newCode(c code) string {
	v := randomString(20, lowerHex)
	c.expires = s.now().Add(s.opts.CodeTTL)
	s.mu.Lock()
	s.codes[v] = &c
	s.mu.Unlock()
	return v
}

// takeCode redeems a code (single use, even when the exchange then fails).
func (s *Server) takeCode(v string) *code {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[v]
	delete(s.codes, v)
	if c == nil || s.now().After(c.expires) {
		return nil
	}
	return c
}

// issue stores an access token (and a refresh token when refreshPrefix is set).
func (s *Server) issue(accessPrefix, refreshPrefix string, g grant, expiring bool) (at, rt string) {
	return s.issueToken(accessPrefix+randomString(36, base62), refreshPrefix, g, expiring)
}

// issueToken stores the access token at (a vendor-shaped one, such as a JWT) and, when
// refreshPrefix is set, a new refresh token.
func (s *Server) issueToken(at, refreshPrefix string, g grant, expiring bool) (string, string) {
	var rt string
	ag := g
	if expiring {
		ag.expires = s.now().Add(s.opts.AccessTokenTTL)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access[at] = &ag
	if refreshPrefix != "" {
		rt = refreshPrefix + randomString(76, base62)
		rg := g
		s.refresh[rt] = &rg
	}
	return at, rt
}

// takeRefresh redeems a refresh token (single use: rotation).
func (s *Server) takeRefresh(v string) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.refresh[v]
	delete(s.refresh, v)
	return g
}

// accessGrant returns the live grant of an access token.
func (s *Server) accessGrant(v string) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access[v]
	if g == nil || (!g.expires.IsZero() && s.now().After(g.expires)) {
		return nil
	}
	return g
}

const (
	base62   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	lowerHex = "0123456789abcdef"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(fmt.Sprintf("mockvendor: random: %v", err))
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}
