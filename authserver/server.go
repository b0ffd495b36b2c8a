package authserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/authserver/store"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/credentials"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// Lifetimes Backstage uses.
const (
	sessionLifetime = time.Hour
	codeLifetime    = 10 * time.Minute
	cleanupInterval = time.Hour
	// sessionRetention keeps expired authorization sessions (and their codes) a day,
	// so a late code replay is still recognised as one.
	sessionRetention = 24 * time.Hour
)

// Audit event names (Backstage has only offline-sessions-revoke; ours follow its style).
const (
	EventConsent      = "oidc-consent"
	EventCodeExchange = "oidc-code-exchange"
	EventRefresh      = "oidc-refresh"
	EventReplay       = "oidc-token-replay"
	EventRevoke       = "oidc-revoke"
)

// TokenIssuer issues Backstage user tokens (tokens.Issuer).
type TokenIssuer interface {
	IssueUserToken(ctx context.Context, claims tokens.UserClaims) (tokens.IssuedToken, error)
}

// UserTokenVerifier verifies Backstage user tokens (tokens.Verifier).
type UserTokenVerifier interface {
	VerifyUserToken(ctx context.Context, token string, allowLimited bool) (tokens.Principal, error)
}

// CredentialAuthenticator authenticates a Bearer token like Backstage's auth service
// (tokens.Authenticator: plugin tokens of other backends included).
type CredentialAuthenticator interface {
	Authenticate(ctx context.Context, token string, allowLimited bool) (tokens.Credentials, error)
}

// UserDirectory answers whether a user entity still exists (the catalog).
type UserDirectory interface {
	UserExists(ctx context.Context, userEntityRef string) (bool, error)
}

// Options wire a Server. cmd builds them.
type Options struct {
	Logger   *slog.Logger
	Config   *config.Config
	Settings Settings

	Sessions store.Sessions
	Codes    store.Codes
	Offline  store.OfflineSessions

	Issuer   TokenIssuer
	Verifier UserTokenVerifier
	// Users is the catalog presence check of the refresh grant; nil fails every
	// refresh unless dangerouslyDisableCatalogPresenceCheck.
	Users   UserDirectory
	Auditor audit.Auditor
	// Authenticator, when set, authenticates service callers (plugin tokens of other
	// backends, verified against their published keys); nil refuses plugin tokens.
	Authenticator CredentialAuthenticator

	// Now and Rand are injected for tests.
	Now  func() time.Time
	Rand io.Reader
	// AllowAddress replaces the public-unicast test of CIMD fetch addresses (tests).
	AllowAddress func(net.IP) bool
}

// Server is the authorization server. It is immutable after New.
type Server struct {
	log      *slog.Logger
	audit    audit.Auditor
	now      func() time.Time
	rand     io.Reader
	sessions store.Sessions
	codes    store.Codes
	offline  store.OfflineSessions
	issuer   TokenIssuer
	verifier UserTokenVerifier
	users    UserDirectory
	authn    CredentialAuthenticator

	authBase    string
	appBase     string
	development bool
	expiresIn   int64

	static          map[string]*client
	cimdEnabled     bool
	clientPatterns  []*urlPattern
	redirectPattern []*urlPattern
	localDocs       map[string]*client // CIMD documents we serve ourselves, by client id
	docBodies       map[string][]byte  // /.well-known/oauth-client/<file> bodies
	fetcher         *cimdFetcher

	refresh      bool
	refreshCfg   RefreshSettings
	staticTokens credentials.StaticTokens
}

// New validates the options.
func New(opts Options) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("authserver: Options.Config is required")
	}
	s := &Server{
		log: opts.Logger, audit: audit.OrNop(opts.Auditor), now: opts.Now, rand: opts.Rand,
		sessions: opts.Sessions, codes: opts.Codes, offline: opts.Offline,
		issuer: opts.Issuer, verifier: opts.Verifier, users: opts.Users, authn: opts.Authenticator,
		authBase: opts.Config.AuthBaseURL(), appBase: opts.Config.App.BaseURL,
		development: opts.Config.DevelopmentMode,
		expiresIn:   int64(opts.Config.Auth.BackstageTokenExpiration / time.Second),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	st := opts.Settings
	s.static = map[string]*client{}
	for _, c := range st.StaticClients {
		s.static[c.ClientID] = &client{id: c.ClientID, name: c.ClientName, redirectURIs: c.RedirectURIs, secret: c.ClientSecret, static: true}
	}
	s.cimdEnabled = st.CIMD.Enabled
	cliID := s.authBase + "/.well-known/oauth-client/cli.json"
	patterns := defaultClientIDPatterns
	if st.hasClientPatterns {
		patterns = st.CIMD.AllowedClientIDPatterns
	}
	patterns = append(append([]string{}, patterns...), cliID)
	redirects := defaultRedirectPatterns
	if st.hasRedirectPatterns {
		redirects = st.CIMD.AllowedRedirectURIPatterns
	}
	s.localDocs = map[string]*client{}
	s.docBodies = map[string][]byte{}
	cli := cimdDoc{ClientID: cliID, ClientName: "Backstage CLI", RedirectURIs: []string{"http://127.0.0.1:8055/callback"},
		ResponseTypes: []string{"code"}, GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "none", Scope: "openid offline_access"}
	docs := map[string]cimdDoc{"cli.json": cli}
	for name, d := range st.CIMD.Documents {
		id := s.authBase + "/.well-known/oauth-client/" + name + ".json"
		cn := d.ClientName
		if cn == "" {
			cn = id
		}
		docs[name+".json"] = cimdDoc{ClientID: id, ClientName: cn, RedirectURIs: d.RedirectURIs, ResponseTypes: []string{"code"},
			GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "none", Scope: d.Scope}
		patterns = append(patterns, id)
	}
	for file, d := range docs {
		body, err := jsrules.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("authserver: client document %s: %w", file, err)
		}
		s.docBodies[file] = body
		s.localDocs[d.ClientID] = &client{id: d.ClientID, name: d.ClientName, redirectURIs: d.RedirectURIs}
	}
	for _, p := range patterns {
		cp, err := compilePattern(p)
		if err != nil {
			return nil, fmt.Errorf("authserver: auth.clientIdMetadataDocuments.allowedClientIdPatterns: %w", err)
		}
		s.clientPatterns = append(s.clientPatterns, cp)
	}
	for _, p := range redirects {
		cp, err := compilePattern(p)
		if err != nil {
			return nil, fmt.Errorf("authserver: auth.clientIdMetadataDocuments.allowedRedirectUriPatterns: %w", err)
		}
		s.redirectPattern = append(s.redirectPattern, cp)
	}
	s.fetcher = newCIMDFetcher(s.development, s.now, opts.AllowAddress)
	s.refresh = st.Refresh.Enabled
	s.refreshCfg = st.Refresh
	s.staticTokens = credentials.NewStaticTokens(opts.Config.StaticAccessTokens())
	if s.Enabled() {
		for name, missing := range map[string]bool{"Sessions": s.sessions == nil, "Codes": s.codes == nil, "Issuer": s.issuer == nil, "Verifier": s.verifier == nil} {
			if missing {
				return nil, fmt.Errorf("authserver: Options.%s is required", name)
			}
		}
	}
	if s.refresh {
		if s.offline == nil {
			return nil, errors.New("authserver: Options.Offline is required with auth.experimentalRefreshToken.enabled")
		}
		if s.users == nil && !st.Refresh.DangerouslyDisableCatalogPresenceCheck {
			s.log.Warn("refresh tokens are enabled without a catalog: every refresh fails the catalog presence check " +
				"(configure the catalog, or set auth.experimentalRefreshToken.dangerouslyDisableCatalogPresenceCheck)")
		}
	}
	return s, nil
}

// cimdDoc is a client metadata document we serve, keys in Backstage's order.
type cimdDoc struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	ResponseTypes           []string `json:"response_types"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope,omitempty"`
}

// Enabled reports whether the authorization endpoints are mounted: CIMD is enabled or
// a static client is configured, as in Backstage.
func (s *Server) Enabled() bool { return s.cimdEnabled || len(s.static) > 0 }

// Handler is a route handler; a returned error is answered by the router as
// Backstage's error JSON (OAuth errors are written by the handler itself).
type Handler = func(w http.ResponseWriter, r *http.Request) error

// Mount registers the routes (paths under /api/auth, gin syntax; path parameters are
// read with r.PathValue). limited marks the routes the sign-in rate limit covers.
func (s *Server) Mount(add func(method, path string, limited bool, h func(http.ResponseWriter, *http.Request) error)) {
	add(http.MethodGet, "/.well-known/oauth-client/:document", false, s.clientDocument)
	if s.Enabled() {
		add(http.MethodGet, "/v1/authorize", true, s.authorize)
		add(http.MethodGet, "/v1/sessions/:sessionId", true, s.getSession)
		add(http.MethodPost, "/v1/sessions/:sessionId/approve", true, s.approve)
		add(http.MethodPost, "/v1/sessions/:sessionId/reject", true, s.reject)
		add(http.MethodPost, "/v1/token", true, s.token)
		add(http.MethodPost, "/v1/revoke", true, s.revoke)
	}
	// POST /v1/offline-sessions/revoke is the router's: offboarding ends a user's
	// sign-in sessions and these offline sessions together (authbackend/sessions.go).
}

// DiscoveryFields are the parts of /.well-known/openid-configuration that depend on
// the clients and refresh tokens (OidcService.getConfiguration); metadata reports
// whether /.well-known/oauth-authorization-server (RFC 8414) is served too.
func (s *Server) DiscoveryFields() (scopes, authMethods, grantTypes []string, revocation, cimd, metadata bool) {
	scopes = []string{"openid"}
	grantTypes = []string{"authorization_code"}
	if s.refresh {
		scopes = append(scopes, "offline_access")
		grantTypes = append(grantTypes, "refresh_token")
	}
	confidential, public := false, s.cimdEnabled
	for _, c := range s.static {
		confidential = confidential || c.secret != ""
		public = public || c.secret == ""
	}
	authMethods = []string{}
	if confidential {
		authMethods = append(authMethods, "client_secret_basic", "client_secret_post")
	}
	if public {
		authMethods = append(authMethods, "none")
	}
	return scopes, authMethods, grantTypes, s.Enabled(), s.cimdEnabled, s.Enabled()
}

// Start runs the hourly cleanup of expired offline sessions and authorization
// sessions until ctx ends.
func (s *Server) Start(ctx context.Context) {
	if !s.Enabled() {
		return
	}
	go func() {
		t := time.NewTicker(cleanupInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.cleanup(ctx)
			}
		}
	}()
}

func (s *Server) cleanup(ctx context.Context) {
	now := s.now()
	if n, err := s.sessions.DeleteExpiredSessions(ctx, now.Add(-sessionRetention)); err != nil {
		s.log.Error("Failed to clean up expired authorization sessions", "error", err)
	} else if n > 0 {
		s.log.Info(fmt.Sprintf("Cleaned up %d expired authorization sessions", n))
	}
	if !s.refresh {
		return
	}
	n, err := s.offline.DeleteExpiredOfflineSessions(ctx, now.Add(-s.refreshCfg.TokenLifetime), now.Add(-s.refreshCfg.MaxRotationLifetime))
	if err != nil {
		s.log.Error("Failed to cleanup expired offline sessions", "error", err)
	} else if n > 0 {
		s.log.Info(fmt.Sprintf("Cleaned up %d expired offline sessions", n))
	}
}

// clientDocument serves cli.json and the configured client documents.
func (s *Server) clientDocument(w http.ResponseWriter, r *http.Request) error {
	body, ok := s.docBodies[r.PathValue("document")]
	if !ok {
		// Backstage has no route for other names: its catch-all answers.
		return backstageerr.NotFound("Unknown auth provider '.well-known'")
	}
	if !s.cimdEnabled {
		b, _ := jsrules.Marshal(oauthErrorBody{Error: "not_found", ErrorDescription: "Client ID metadata documents not enabled"})
		writeJSON(w, r, http.StatusNotFound, b)
		return nil
	}
	writeJSON(w, r, http.StatusOK, body)
	return nil
}

// ---- clients ----

// resolveClient is OidcService.resolveClient: a static client by id (redirect URI
// matched exactly when given), else a CIMD client.
func (s *Server) resolveClient(ctx context.Context, clientID, redirectURI string) (*client, error) {
	if c, ok := s.static[clientID]; ok {
		if redirectURI != "" && !contains(c.redirectURIs, redirectURI) {
			return nil, backstageerr.Input("Invalid redirect_uri '%s'", redirectURI)
		}
		return c, nil
	}
	u, err := validateCIMDURL(clientID, s.development)
	if err != nil {
		return nil, err
	}
	if !s.cimdEnabled {
		return nil, backstageerr.Input("Client ID metadata documents not enabled")
	}
	var matched *urlPattern
	for _, p := range s.clientPatterns {
		if p.match(u) {
			matched = p
			break
		}
	}
	if matched == nil {
		return nil, backstageerr.Input("Invalid client_id '%s'", clientID)
	}
	c, ok := s.localDocs[clientID]
	if !ok {
		if c, err = s.fetcher.fetch(ctx, clientID, u, matched.exact); err != nil {
			return nil, err
		}
	}
	if redirectURI != "" {
		if err := redirectAllowed(redirectURI, s.redirectPattern, c.redirectURIs); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// requiresClientAuthentication is Backstage's: confidential static clients do; CIMD
// clients do not; anything else is no longer registered.
func (s *Server) requiresClientAuthentication(clientID string) (bool, error) {
	if c, ok := s.static[clientID]; ok {
		return c.secret != "", nil
	}
	if _, err := validateCIMDURL(clientID, s.development); err != nil {
		return false, backstageerr.Authentication("Client is no longer registered")
	}
	return false, nil
}

// verifySecret compares a confidential static client's secret in constant time (over
// digests, so the length does not leak either).
func (s *Server) verifySecret(clientID, secret string) bool {
	c, ok := s.static[clientID]
	if !ok || c.secret == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(c.secret)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// clientCredentials is parseClientCredentials: Basic (form-decoded parts) before the body.
func clientCredentials(r *http.Request, bodyID, bodySecret string) (id, secret string, basic bool) {
	h := r.Header.Get("Authorization")
	basic = len(h) > 6 && strings.EqualFold(h[:5], "basic") && h[5] == ' '
	if basic {
		raw := strings.TrimLeft(h[5:], " ")
		if raw != "" && !strings.ContainsAny(raw, " \t\r\n\f") {
			if dec, ok := lenientBase64(raw); ok {
				if i := strings.IndexByte(dec, ':'); i >= 0 {
					cid, err1 := decodeURIComponent(strings.ReplaceAll(dec[:i], "+", " "))
					csec, err2 := decodeURIComponent(strings.ReplaceAll(dec[i+1:], "+", " "))
					if err1 == nil && err2 == nil && cid != "" {
						return cid, csec, true
					}
				}
			}
		}
	}
	return bodyID, bodySecret, basic
}

// lenientBase64 decodes like Buffer.from(s, "base64"): both alphabets, padding
// optional, decoding stops at the first '='.
func lenientBase64(s string) (string, bool) {
	if i := strings.IndexByte(s, '='); i >= 0 {
		s = s[:i]
	}
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// decodeURIComponent fails on malformed escapes, as JavaScript's does.
func decodeURIComponent(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	return pathUnescape(s)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ---- callers ----

// principal kinds of a request's credentials.
const (
	principalNone    = "none"
	principalUser    = "user"
	principalService = "service"
)

// caller authenticates the Bearer token like httpAuth.credentials: a full user token,
// a service credential (a static external-access token, or a plugin token verified by
// the Authenticator; one carrying a user's obo token is that user), or none. A token that is
// neither is an AuthenticationError.
func (s *Server) caller(r *http.Request) (kind, subject string, err error) {
	token, ok := credentials.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return principalNone, "", nil
	}
	if sub, ok := s.staticTokens.Principal(token); ok {
		return principalService, sub, nil
	}
	if credentials.JWTHeaderType(token) == credentials.TypPluginToken {
		if s.authn == nil {
			return principalService, "", backstageerr.Authentication("Plugin tokens are not accepted by this endpoint")
		}
		c, err := s.authn.Authenticate(r.Context(), token, false)
		if err != nil {
			return principalNone, "", err
		}
		if c.Kind == tokens.KindUser {
			return principalUser, c.Subject, nil
		}
		return principalService, c.Subject, nil
	}
	p, err := s.verifier.VerifyUserToken(r.Context(), token, false)
	if err != nil {
		return principalNone, "", err
	}
	return principalUser, p.Sub, nil
}

// randomToken is base64url of n random bytes.
func (s *Server) randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("authserver: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// uuid4 is crypto.randomUUID.
func (s *Server) uuid4() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("authserver: random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func (s *Server) event(r *http.Request, id string, sev audit.Severity) (audit.Event, bool) {
	if !s.audit.Enabled(r.Context(), sev) {
		return audit.Event{}, false
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	actor, req := audit.FromHTTP(r, ip)
	return audit.Event{ID: id, Severity: sev, Actor: actor, Request: req}, true
}

// record writes an audit event when its severity is recorded.
func (s *Server) record(r *http.Request, id string, sev audit.Severity, actor, outcome, reason string, meta ...slog.Attr) {
	e, ok := s.event(r, id, sev)
	if !ok {
		return
	}
	e.Actor.ID = actor
	e.Outcome = outcome
	e.Reason = reason
	e.Status = audit.Succeeded
	if outcome != "success" && outcome != "approved" && outcome != "rejected" {
		e.Status = audit.Failed
	}
	e.Meta = meta
	s.audit.Audit(r.Context(), e)
}
