package mockpalette

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// User is one account the mock IdP can sign in.
type User struct {
	Subject string `yaml:"subject" json:"sub"`
	Email   string `yaml:"email" json:"email"`
	// EmailVerified is the email_verified claim; nil omits it.
	EmailVerified *bool    `yaml:"emailVerified" json:"email_verified,omitempty"`
	GivenName     string   `yaml:"givenName" json:"given_name,omitempty"`
	FamilyName    string   `yaml:"familyName" json:"family_name,omitempty"`
	Name          string   `yaml:"name" json:"name,omitempty"`
	Picture       string   `yaml:"picture" json:"picture,omitempty"`
	Groups        []string `yaml:"groups" json:"groups,omitempty"`
	// PreferredUsername is the preferred_username claim; "" omits it.
	PreferredUsername string `yaml:"preferredUsername" json:"preferred_username,omitempty"`
}

// DisplayName is Name, else "GivenName FamilyName".
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

// DefaultUsers are alice (groups team-a) and bob, as in the reference captures.
func DefaultUsers() []User {
	t := true
	return []User{
		{Subject: "u-alice-0001", Email: "alice@example.com", EmailVerified: &t, GivenName: "Alice", FamilyName: "Smith", Name: "Alice Smith", Groups: []string{"team-a"}},
		{Subject: "u-bob", Email: "bob@example.com", EmailVerified: &t, GivenName: "Bob", FamilyName: "Jones", Name: "Bob Jones"},
	}
}

// Personality is the kind of IdP the mock imitates.
type Personality int

const (
	// Palette (the default) is SpectroCloud Palette: issuer /v1/oidc/tenant/{tenant}
	// with auth, token, userinfo, keys and revoke under it; no refresh grant (unless
	// Options.RefreshGrant), Palette's HS256 session JWT returned as refresh_token; ID
	// tokens carry azp and no at_hash.
	Palette Personality = iota
	// GenericOIDC is a standards-following OpenID Connect IdP with a layout of its own
	// (issuer /realms/{tenant}, endpoints under /protocol/openid-connect/ as in
	// Keycloak): refresh_token grant and revocation endpoint advertised, a single-use
	// rotating refresh token issued when offline_access is requested (OIDC Core 11); ID
	// tokens carry at_hash and no azp.
	GenericOIDC
)

func (p Personality) String() string {
	if p == GenericOIDC {
		return "generic-oidc"
	}
	return "palette"
}

// Endpoints are the paths the IdP serves (relative to the server root).
type Endpoints struct {
	Issuer, Discovery, Authorize, Token, Userinfo, JWKS, Revoke string
}

// Options configure the mock IdP. Zero values take the defaults noted.
type Options struct {
	// Personality is the IdP imitated (default Palette).
	Personality Personality
	// Tenant is the tenant id in the issuer path (default "t1").
	Tenant string
	// ClientID and ClientSecret of the one registered client (default
	// backstage-client / backstage-secret).
	ClientID     string
	ClientSecret string
	// RedirectURIs, when set, is the allowlist for redirect_uri.
	RedirectURIs []string
	// Users (default DefaultUsers()). Without LoginForm the first one is signed in.
	Users []User
	// LoginForm serves an HTML form at /auth to pick a user.
	LoginForm bool
	// RefreshGrant enables the refresh_token grant on the Palette personality
	// (advertised in discovery, real single-use rotated refresh tokens, /revoke).
	// Without it, like Palette, the token response's refresh_token is an HS256 session
	// JWT and there is no refresh grant. GenericOIDC always has the grant.
	RefreshGrant bool
	// BaseURL (e.g. http://127.0.0.1:7010) fixes the issuer's origin; "" derives it
	// from each request's Host.
	BaseURL string
	// IDTokenTTL (default 1h) and CodeTTL (default 60s).
	IDTokenTTL time.Duration
	CodeTTL    time.Duration
	// Now (default time.Now).
	Now func() time.Time
	// Logger (default discard).
	Logger *slog.Logger
}

// Fault makes the mock misbehave. SetFault arms it for the next sign-in: an
// authorize fault (AuthorizeError) is used by the next /auth request, everything else
// by the next /token response; then it is cleared, unless Permanent, in which case it
// stays until ClearFault.
type Fault struct {
	Permanent bool `json:"permanent,omitempty"`

	// AuthorizeError makes /auth redirect back with error=<it> (e.g. access_denied).
	AuthorizeError            string `json:"error,omitempty"`
	AuthorizeErrorDescription string `json:"error_description,omitempty"`

	// TokenStatus makes /token answer this HTTP status with an error body.
	TokenStatus int `json:"token_status,omitempty"`
	// TokenDelay delays the /token answer.
	TokenDelay time.Duration `json:"token_delay,omitempty"`

	// ID token faults.
	BadSignature       bool    `json:"bad_sig,omitempty"`
	AlgNone            bool    `json:"alg_none,omitempty"`
	HS256WithPublicKey bool    `json:"alg_hs256,omitempty"`
	Nonce              *string `json:"nonce,omitempty"` // replaces the nonce; "" omits it
	Issuer             string  `json:"iss,omitempty"`
	Audience           string  `json:"aud,omitempty"`
	// IDTokenTTL, when non-zero, sets exp = iat + IDTokenTTL (negative: already expired).
	IDTokenTTL time.Duration `json:"id_token_ttl,omitempty"`
	// IssuedAtOffset shifts iat (positive: in the future).
	IssuedAtOffset time.Duration `json:"iat_offset,omitempty"`
	// NoSessionToken omits Palette's HS256 refresh_token (hs256_refresh=0).
	NoSessionToken bool `json:"no_hs256_refresh,omitempty"`
	// User signs in this user instead of the one chosen at /auth.
	User *User `json:"user,omitempty"`
	// EmailVerified, when non-nil, is put verbatim into email_verified (e.g. "false").
	EmailVerified any `json:"email_verified,omitempty"`
	// UserinfoSubject makes userinfo answer with another sub.
	UserinfoSubject string `json:"userinfo_sub,omitempty"`
	// BadAtHash puts an at_hash that does not match the access token in the ID token.
	BadAtHash bool `json:"bad_at_hash,omitempty"`
}

// Request is one recorded request (the mock's own /_mock/ endpoints are not recorded).
type Request = mockkit.Request

type codeGrant struct {
	clientID, redirectURI, challenge, nonce, scope string
	user                                           User
	expires                                        time.Time
}

type accessGrant struct {
	user    User
	subject string
	claims  map[string]any
	expires time.Time
}

type refreshGrant struct {
	user     User
	clientID string
	scope    string
}

// Server is a Palette-shaped (or generic) OpenID Connect IdP for tests and demos.
type Server struct {
	// Recorder records every request but the mock's own (Requests, RequestsTo,
	// ResetRequests).
	mockkit.Recorder
	opts Options
	eps  Endpoints
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	key     *rsa.PrivateKey
	kid     string
	keySeq  int
	hsKey   []byte
	codes   map[string]*codeGrant
	access  map[string]*accessGrant
	refresh map[string]*refreshGrant
	fault   *Fault
	down    bool
	discIss string
	handler http.Handler
}

// New returns a mock IdP.
func New(opts Options) *Server {
	if opts.Tenant == "" {
		opts.Tenant = "t1"
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
	if opts.IDTokenTTL == 0 {
		opts.IDTokenTTL = time.Hour
	}
	if opts.CodeTTL == 0 {
		opts.CodeTTL = time.Minute
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		codes:   map[string]*codeGrant{},
		access:  map[string]*accessGrant{},
		refresh: map[string]*refreshGrant{},
		hsKey:   randomBytes(32),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.Recorder.Now = s.now
	s.eps = endpointsOf(opts.Personality, opts.Tenant)
	s.RotateKeys()
	s.handler = s.routes()
	return s
}

// Handler serves the IdP.
func (s *Server) Handler() http.Handler { return s.handler }

// IssuerPath is /v1/oidc/tenant/{tenant} (Palette) or /realms/{tenant} (GenericOIDC).
func (s *Server) IssuerPath() string { return s.eps.Issuer }

// Endpoints returns the paths the IdP serves.
func (s *Server) Endpoints() Endpoints { return s.eps }

func endpointsOf(p Personality, tenant string) Endpoints {
	if p == GenericOIDC {
		iss := "/realms/" + tenant
		oc := iss + "/protocol/openid-connect"
		return Endpoints{
			Issuer: iss, Discovery: iss + "/.well-known/openid-configuration",
			Authorize: oc + "/auth", Token: oc + "/token", Userinfo: oc + "/userinfo", JWKS: oc + "/certs", Revoke: oc + "/revoke",
		}
	}
	iss := "/v1/oidc/tenant/" + tenant
	return Endpoints{
		Issuer: iss, Discovery: iss + "/.well-known/openid-configuration",
		Authorize: iss + "/auth", Token: iss + "/token", Userinfo: iss + "/userinfo", JWKS: iss + "/keys", Revoke: iss + "/revoke",
	}
}

// refreshGrantEnabled reports whether the refresh_token grant, rotated refresh tokens
// and revocation are offered.
func (s *Server) refreshGrantEnabled() bool {
	return s.opts.RefreshGrant || s.opts.Personality == GenericOIDC
}

// Options returns the effective options.
func (s *Server) Options() Options { return s.opts }

// Start serves the mock on 127.0.0.1:0 until the test ends and returns the issuer URL
// (e.g. http://127.0.0.1:43121/v1/oidc/tenant/t1, or .../realms/t1 for GenericOIDC).
func (s *Server) Start(t TB) string {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts.URL + s.IssuerPath()
}

// TB is the part of testing.TB that Start needs; taking it instead of testing.TB keeps
// the testing package out of the mockpalette binary.
type TB = mockkit.TB

// strangerKey signs BadSignature tokens; it is never in any JWKS.
func strangerKey() *rsa.PrivateKey { return mockkit.Key(0) }

// RotateKeys replaces the signing key: new kid, the old key leaves the JWKS.
func (s *Server) RotateKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keySeq++
	s.key, s.kid = mockkit.Key(s.keySeq), fmt.Sprintf("mock-rsa-%d", s.keySeq)
}

// KeyID is the current signing key's kid.
func (s *Server) KeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kid
}

// SetFault arms f (see Fault for when it applies).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = &f
}

// ClearFault disarms any fault.
func (s *Server) ClearFault() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = nil
}

// SetUnavailable makes every IdP endpoint (not /_mock/) answer 503.
func (s *Server) SetUnavailable(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetDiscoveryIssuer makes discovery announce another issuer ("" restores it).
func (s *Server) SetDiscoveryIssuer(iss string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discIss = iss
}

// RevokeUser ends every refresh and access token of the user with this subject
// (when the refresh grant is offered); it returns how many refresh tokens were revoked.
func (s *Server) RevokeUser(subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, g := range s.refresh {
		if g.user.Subject == subject {
			delete(s.refresh, k)
			n++
		}
	}
	for k, g := range s.access {
		if g.subject == subject {
			delete(s.access, k)
		}
	}
	return n
}

// takeFault returns the armed fault for a phase and clears it unless permanent.
func (s *Server) takeFault(authorize bool) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault == nil {
		return Fault{}
	}
	f := *s.fault
	if authorize && f.AuthorizeError == "" {
		return Fault{} // left for the token endpoint
	}
	if !f.Permanent {
		s.fault = nil
	}
	return f
}

func (s *Server) user(sel string) (User, bool) {
	for _, u := range s.opts.Users {
		if u.Subject == sel || strings.EqualFold(u.Email, sel) {
			return u, true
		}
	}
	return User{}, false
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("mockpalette: random: %v", err))
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
