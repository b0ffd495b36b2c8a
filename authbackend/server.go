package authbackend

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/cookies"
	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/origins"
	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/credentials"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// Mount points, as in Backstage: the auth plugin lives under /api/auth and the
// framework's health routes at the root.
const (
	authPrefix   = "/api/auth"
	healthPrefix = "/.backstage/health/v1"
)

// reservedSegments are first path segments under /api/auth that our own routes use;
// a provider with such an id would shadow them.
var reservedSegments = map[string]bool{".well-known": true, ".backstage": true, "v1": true}

// Server is the auth backend's HTTP surface. Everything that does not depend on the
// request is computed by New; the Server is immutable afterwards and safe for
// concurrent use.
type Server struct {
	log  *slog.Logger
	cfg  *config.Config
	opts Options
	now  func() time.Time
	rand io.Reader

	sealer  *cookies.Sealer
	matcher *origins.Matcher

	authBase   string // external base URL of the auth plugin (token iss)
	appOrigin  string // origin of app.baseUrl
	errorRedir url.URL

	helmet  http.Header // headers every response carries
	cors    *corsPolicy // nil: no CORS headers at all
	allowed map[string]string
	oauth   map[string]*oauthProvider
	proxy   map[string]*proxyProvider
	unconf  map[string]bool // registered provider ids that are not configured

	staticTokens credentials.StaticTokens
	legacyCreds  []legacyCredential // backend.auth.externalAccess of type legacy, for service-only routes

	oidcConfig []byte
	demo       *demoPage
	consent    *consentPage // the demo's consent page (demo and authorization server on)

	// Rate limits (nil: off): Backstage's backend.rateLimit (every route) and
	// backend.rateLimit.plugin.auth (/api/auth), and ours on the routes that call an
	// IdP or the catalog, and on userinfo requests no cache answers.
	globalLimit, pluginLimit, signInLimit, userInfoLimit *limiter

	metrics  Metrics
	audit    audit.Auditor
	draining atomic.Bool

	engine *gin.Engine
}

// New validates opts and builds the router.
func New(opts Options) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("authbackend: Options.Config is required")
	}
	for _, dep := range []struct {
		name    string
		missing bool
	}{
		{"Issuer", opts.Issuer == nil},
		{"Verifier", opts.Verifier == nil},
		{"UserInfo", opts.UserInfo == nil},
		{"UserKeys", opts.UserKeys == nil},
		{"PluginKeys", opts.PluginKeys == nil},
	} {
		if dep.missing {
			return nil, fmt.Errorf("authbackend: Options.%s is required", dep.name)
		}
	}
	s := &Server{
		log:  opts.Logger,
		cfg:  opts.Config,
		opts: opts,
		now:  opts.Now,
		rand: opts.Rand,
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
	s.metrics, s.audit = opts.Metrics, audit.OrNop(opts.Auditor)
	if s.metrics == nil {
		s.metrics = noMetrics{}
	}
	cfg := s.cfg

	secret := []byte(cfg.Auth.SessionSecret)
	if len(secret) > 0 {
		// A short secret still works (HKDF stretches it) but is guessable offline from
		// any sealed cookie; Backstage accepts any length, so warn rather than refuse.
		if err := cookies.CheckSecret(secret); err != nil {
			s.log.Warn("auth.session.secret is weak: "+err.Error()+"; use at least 32 random bytes", "length", len(secret))
		}
	} else {
		secret = make([]byte, 32)
		if _, err := io.ReadFull(s.rand, secret); err != nil {
			return nil, fmt.Errorf("authbackend: generate session secret: %w", err)
		}
		s.log.Warn("auth.session.secret is not set; using a random secret: sign-in sessions " +
			"(refresh cookies) will not survive a restart and will not work across replicas. " +
			"Set auth.session.secret to a long random value shared by every replica.")
	}
	s.sealer = cookies.NewSealer(secret, s.rand)

	s.authBase = cfg.AuthBaseURL()
	m, err := origins.NewMatcher(cfg.App.BaseURL, cfg.Auth.ExtraAllowedOrigins)
	if err != nil {
		return nil, fmt.Errorf("authbackend: %w", err)
	}
	s.matcher = m
	s.appOrigin = m.AppOrigin()
	if err := s.initErrorRedirect(); err != nil {
		return nil, err
	}

	s.helmet = buildHelmet(cfg.Backend.CSP, cfg.Backend.Referrer)
	if s.cors, err = newCORSPolicy(cfg.Backend.CORS); err != nil {
		return nil, fmt.Errorf("authbackend: %w", err)
	}
	s.staticTokens = credentials.NewStaticTokens(cfg.StaticAccessTokens())
	s.initServiceCredentials()
	if s.oidcConfig, err = buildOIDCConfig(s.authBase, opts.AuthorizationServer); err != nil {
		return nil, err
	}
	if err := s.initProviders(); err != nil {
		return nil, err
	}
	s.initRateLimits()
	if cfg.Demo.Enabled {
		if s.demo, err = newDemoPage(cfg.Demo); err != nil {
			return nil, err
		}
		if opts.AuthorizationServer != nil {
			if s.consent, err = newConsentPage(s.demo.provider, s.demo.env); err != nil {
				return nil, err
			}
		}
		if _, ok := s.oauth[s.demo.provider]; !ok {
			s.log.Warn("the demo page signs in with a provider that is not configured",
				"provider", s.demo.provider)
		}
		if o, err := origins.ParseOrigin(cfg.Backend.BaseURL); err != nil || !s.matcher.Allowed(o) {
			s.log.Warn("the demo page is served from backend.baseUrl, which is not an allowed origin: "+
				"sign-in results will not be posted to it; add it to auth.experimentalExtraAllowedOrigins",
				"origin", cfg.Backend.BaseURL)
		}
	}
	s.engine = s.buildEngine()
	return s, nil
}

// initProviders builds the per-provider, per-environment route state (cookie jars
// included) from the registry-built providers.
func (s *Server) initProviders() error {
	s.oauth = map[string]*oauthProvider{}
	s.proxy = map[string]*proxyProvider{}
	for _, c := range s.opts.Providers {
		id := c.ID
		if id == "" || strings.ContainsAny(id, "/?#%") || reservedSegments[id] {
			return fmt.Errorf("authbackend: invalid provider id %q", id)
		}
		if _, dup := s.oauth[id]; dup {
			return fmt.Errorf("authbackend: provider %q configured twice", id)
		}
		if _, dup := s.proxy[id]; dup {
			return fmt.Errorf("authbackend: provider %q configured twice", id)
		}
		switch c.Kind {
		case providers.KindOAuth:
			p, err := s.newOAuthProvider(c)
			if err != nil {
				return err
			}
			s.oauth[id] = p
		case providers.KindProxy:
			p, err := newProxyProvider(c)
			if err != nil {
				return err
			}
			s.proxy[id] = p
		default:
			return fmt.Errorf("authbackend: provider %q has no kind", id)
		}
	}
	s.unconf = map[string]bool{}
	for _, id := range s.opts.RegisteredIDs {
		_, isOAuth := s.oauth[id]
		_, isProxy := s.proxy[id]
		if !isOAuth && !isProxy {
			s.unconf[id] = true
		}
	}
	return nil
}

func (s *Server) newOAuthProvider(c providers.Configured) (*oauthProvider, error) {
	id := c.ID
	p := &oauthProvider{id: id, envs: make(map[string]*oauthEnv, len(c.Envs))}
	for name, pe := range c.Envs {
		op, ok := pe.Provider.(providers.OAuthProvider)
		if !ok {
			return nil, fmt.Errorf("authbackend: auth.providers.%s.%s: not an OAuth provider", id, name)
		}
		callback := pe.CallbackURL
		if callback == "" {
			callback = s.authBase + "/" + id + "/handler/frame"
		}
		jar, err := cookies.NewJar(id, callback)
		if err != nil {
			return nil, fmt.Errorf("authbackend: auth.providers.%s.%s.callbackUrl: %w", id, name, err)
		}
		maxAge := pe.SessionDuration
		if maxAge <= 0 || maxAge > cookies.DefaultMaxAge {
			maxAge = cookies.DefaultMaxAge
		}
		e := &oauthEnv{
			providerID:  id,
			env:         name,
			provider:    op,
			callbackURL: callback,
			jar:         jar,
			maxAge:      maxAge,
			resolver:    pe.Resolver,
			aad:         id + "|" + name + "|refresh",
		}
		// Optional capabilities, detected once.
		e.refresher, _ = pe.Provider.(providers.Refresher)
		e.logouter, _ = pe.Provider.(providers.Logouter)
		e.logoutURLer, _ = pe.Provider.(providers.LogoutURLer)
		if sc, ok := pe.Provider.(providers.Scoper); ok {
			e.scopes = sc.Scopes()
		}
		p.envs[name] = e
	}
	return p, nil
}

// initErrorRedirect precomputes app.baseUrl as `new URL(app.baseUrl)` serialises it;
// redirect-flow errors go there with ?error=<message>.
func (s *Server) initErrorRedirect() error {
	u, err := url.Parse(s.cfg.App.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("authbackend: app.baseUrl %q is not an absolute URL", s.cfg.App.BaseURL)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	s.errorRedir = *u
	return nil
}

// Handler returns the HTTP handler for the whole server (health, /api/auth and, when
// enabled, the demo page).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// serveHTTP strips one trailing slash before routing, because Express routes match
// "/start/" like "/start" (non-strict routing) and gin would not.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = strings.TrimSuffix(p, "/")
		u.RawPath = strings.TrimSuffix(u.RawPath, "/")
		r2.URL = &u
		r = r2
	}
	s.engine.ServeHTTP(w, r)
}

// buildEngine assembles the routes. gin's process-wide mode is the binary's business
// (cmd sets release mode); nothing here depends on it.
func (s *Server) buildEngine() *gin.Engine {
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = false
	e.Use(s.opts.Middleware...)
	e.Use(s.logRequests, s.recoverPanics, s.setSecurityHeaders)
	if s.cors != nil {
		e.Use(s.applyCORS)
	}
	if s.globalLimit != nil {
		e.Use(s.rateLimit(s.globalLimit))
	}
	if s.pluginLimit != nil {
		pl := s.rateLimit(s.pluginLimit)
		e.Use(func(c *gin.Context) {
			if p := c.Request.URL.Path; p == authPrefix || strings.HasPrefix(p, authPrefix+"/") {
				pl(c)
			}
		})
	}
	// Our sign-in limit, on the routes that make this server call an IdP or the catalog.
	signIn := []gin.HandlerFunc{}
	if s.signInLimit != nil {
		signIn = append(signIn, s.rateLimit(s.signInLimit))
	}
	limited := func(h gin.HandlerFunc) []gin.HandlerFunc { return append(signIn[:len(signIn):len(signIn)], h) }
	s.allowed = map[string]string{}

	s.get(e, healthPrefix+"/readiness", s.readiness)
	s.get(e, healthPrefix+"/liveness", s.liveness)
	if s.demo != nil {
		s.get(e, "/", s.serveDemo)
	}
	if s.consent != nil {
		s.get(e, "/oauth2/authorize/:sessionId", s.serveConsent)
	}

	s.get(e, authPrefix+"/.well-known/openid-configuration", s.openIDConfiguration)
	s.get(e, authPrefix+"/.well-known/jwks.json", s.serveJWKS(s.opts.UserKeys))
	s.get(e, authPrefix+"/.backstage/auth/v1/jwks.json", s.serveJWKS(s.opts.PluginKeys))
	s.get(e, authPrefix+"/v1/userinfo", s.userInfo)
	s.mountAuthorizationServer(e, signIn)
	s.post(e, authPrefix+"/v1/offline-sessions/revoke", s.offlineSessionsRevoke)

	ids := make([]string, 0, len(s.oauth))
	for id := range s.oauth {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// Same registration order as Backstage's provider router, which also fixes the
	// order of methods in automatic OPTIONS answers.
	for _, id := range ids {
		p := s.oauth[id]
		base := authPrefix + "/" + id
		s.get(e, base+"/start", limited(s.oauthStart(p))...)
		s.get(e, base+"/handler/frame", limited(s.oauthFrame(p))...)
		s.post(e, base+"/handler/frame", limited(s.oauthFrame(p))...)
		s.post(e, base+"/logout", s.oauthLogout(p))
		s.get(e, base+"/refresh", limited(s.oauthRefresh(p))...)
		s.post(e, base+"/refresh", limited(s.oauthRefresh(p))...)
	}
	proxyIDs := make([]string, 0, len(s.proxy))
	for id := range s.proxy {
		proxyIDs = append(proxyIDs, id)
	}
	sort.Strings(proxyIDs)
	for _, id := range proxyIDs {
		p := s.proxy[id]
		base := authPrefix + "/" + id
		s.get(e, base+"/start", s.notImplemented)
		s.get(e, base+"/handler/frame", s.notImplemented)
		s.post(e, base+"/handler/frame", s.notImplemented)
		s.get(e, base+"/refresh", limited(s.proxyRefresh(p))...)
		s.post(e, base+"/refresh", limited(s.proxyRefresh(p))...)
	}
	e.NoRoute(s.noRoute)
	return e
}

// mountAuthorizationServer adds the authorization server's routes and, when it is
// enabled, the discovery document at RFC 8414's addresses (which MCP clients try
// first; Backstage has no such route): /api/auth/.well-known/oauth-authorization-server
// and, path inserted after the host, /.well-known/oauth-authorization-server/api/auth.
func (s *Server) mountAuthorizationServer(e *gin.Engine, signIn []gin.HandlerFunc) {
	add := func(method, path string, limited bool, h func(http.ResponseWriter, *http.Request) error) {
		handler := func(c *gin.Context) {
			for _, p := range c.Params {
				c.Request.SetPathValue(p.Key, p.Value)
			}
			if err := h(c.Writer, c.Request); err != nil {
				s.writeError(c, err)
			}
		}
		chain := []gin.HandlerFunc{handler}
		if limited {
			chain = append(signIn[:len(signIn):len(signIn)], handler)
		}
		switch method {
		case http.MethodGet:
			s.get(e, authPrefix+path, chain...)
		case http.MethodPost:
			s.post(e, authPrefix+path, chain...)
		}
	}
	if s.opts.Actions != nil {
		s.opts.Actions.Mount(add)
	}
	as := s.opts.AuthorizationServer
	if as == nil {
		return
	}
	as.Mount(add)
	if _, _, _, _, _, metadata := as.DiscoveryFields(); metadata {
		s.get(e, authPrefix+"/.well-known/oauth-authorization-server", s.openIDConfiguration)
		s.get(e, "/.well-known/oauth-authorization-server"+authPrefix, s.openIDConfiguration)
	}
}

// get registers a GET route (and HEAD, which Express serves from GET handlers).
func (s *Server) get(e *gin.Engine, path string, h ...gin.HandlerFunc) {
	e.GET(path, h...)
	e.HEAD(path, h...)
	s.addAllowed(path, "GET", "HEAD")
}

func (s *Server) post(e *gin.Engine, path string, h ...gin.HandlerFunc) {
	e.POST(path, h...)
	s.addAllowed(path, "POST")
}

func (s *Server) addAllowed(path string, methods ...string) {
	have := s.allowed[path]
	for _, m := range methods {
		if !containsToken(have, m) {
			if have != "" {
				have += ","
			}
			have += m
		}
	}
	s.allowed[path] = have
}

func containsToken(list, tok string) bool {
	for _, t := range strings.Split(list, ",") {
		if t == tok {
			return true
		}
	}
	return false
}

// noRoute answers everything no route matched, like Backstage's tail of middleware:
// Express's automatic OPTIONS answer for existing paths, then the auth router's
// catch-all "/:provider/" (404 error JSON), then the root 404 with an empty body.
func (s *Server) noRoute(c *gin.Context) {
	r := c.Request
	if r.Method == http.MethodOptions {
		if allow, ok := s.allowed[r.URL.Path]; ok {
			h := c.Writer.Header()
			h.Set("Allow", allow)
			writeBody(c, http.StatusOK, "text/html; charset=utf-8", []byte(allow))
			return
		}
	}
	if seg, ok := firstAuthSegment(r.URL); ok {
		if s.unconf[seg] {
			s.writeError(c, backstageerr.NotFound("No auth provider registered for '%s'", seg))
			return
		}
		s.writeError(c, backstageerr.NotFound("Unknown auth provider '%s'", seg))
		return
	}
	c.Status(http.StatusNotFound)
	c.Writer.WriteHeaderNow()
}

// firstAuthSegment returns the decoded first path segment under /api/auth/, if any.
func firstAuthSegment(u *url.URL) (string, bool) {
	p := u.EscapedPath()
	if !strings.HasPrefix(p, authPrefix+"/") {
		return "", false
	}
	rest := p[len(authPrefix)+1:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return "", false
	}
	seg, err := url.PathUnescape(rest)
	if err != nil {
		seg = rest
	}
	return seg, true
}

// writeBody writes a complete response with an explicit length.
func writeBody(c *gin.Context, status int, contentType string, body []byte) {
	h := c.Writer.Header()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Status(status)
	c.Writer.WriteHeaderNow()
	if c.Request.Method != http.MethodHead && len(body) > 0 {
		_, _ = c.Writer.Write(body)
	}
}

func (s *Server) initRateLimits() {
	cfg := s.cfg
	if c := cfg.Backend.RateLimit; c != nil {
		s.globalLimit = newLimiter("backend.rateLimit", *c, s.now, s.log)
	}
	if c := cfg.Backend.PluginRateLimit; c != nil {
		s.pluginLimit = newLimiter("backend.rateLimit.plugin.auth", *c, s.now, s.log)
	}
	if own := cfg.RateLimit; own.Enabled {
		base := config.RateLimitConfig{Window: own.Window, Limit: own.Limit, IPAllowList: own.IPAllowList}
		s.signInLimit = newLimiter("authbackend.rateLimit", base, s.now, s.log)
		base.Limit = own.UserInfoLimit
		s.userInfoLimit = newLimiter("authbackend.rateLimit.userInfoRequestLimit", base, s.now, s.log)
	}
}
