package authbackend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/cookies"
	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/oauthstate"
	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/origins"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// maxFormBody bounds POST bodies we parse (Express's urlencoded default is 100kb).
const maxFormBody = 100 << 10

// oauthProvider is one configured OAuth provider id with its environments.
type oauthProvider struct {
	id   string
	envs map[string]*oauthEnv
}

// oauthEnv is one environment of one provider, with everything computed at startup.
type oauthEnv struct {
	providerID string
	env        string
	provider   providers.OAuthProvider
	// Optional capabilities of provider (nil when it lacks them).
	refresher   providers.Refresher
	logouter    providers.Logouter
	logoutURLer providers.LogoutURLer
	callbackURL string
	jar         *cookies.Jar
	maxAge      time.Duration
	resolver    resolvers.Resolver
	scopes      providers.ScopeSpec
	aad         string // additional data binding the refresh cookie to provider and env
}

// sealedSession is the plaintext of the refresh cookie. It is only ever read after
// the sealer authenticated and decrypted it, so every field is server-written.
type sealedSession struct {
	// Session is the provider's opaque session (Result.Session).
	Session []byte `json:"s"`
	// Scope is the granted scope, space-joined.
	Scope string `json:"sc,omitempty"`
	// IssuedAt is the Unix time of the sign-in that created the session; the session
	// ends at IssuedAt + the configured session duration, however often it refreshes.
	IssuedAt int64 `json:"iat"`
	// ExpiresAt (Unix seconds, 0 = none) is when the provider said the session stops
	// being refreshable.
	ExpiresAt int64 `json:"exp,omitempty"`
	// ID is the server-side session (package sessions); empty when the server keeps
	// no sessions.
	ID string `json:"sid,omitempty"`
}

// signInResponse is the response object of sign-in and refresh, keys in Backstage's
// order; absent parts are omitted as JSON.stringify omits undefined.
type signInResponse struct {
	Profile           providers.Profile       `json:"profile"`
	ProviderInfo      *providers.ProviderInfo `json:"providerInfo,omitempty"`
	BackstageIdentity *backstageIdentity      `json:"backstageIdentity,omitempty"`
}

type backstageIdentity struct {
	Token            string       `json:"token"`
	Identity         userIdentity `json:"identity"`
	ExpiresInSeconds int64        `json:"expiresInSeconds"`
}

type userIdentity struct {
	Type                string   `json:"type"`
	UserEntityRef       string   `json:"userEntityRef"`
	OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
}

// selectEnv is OAuthEnvironmentHandler's environment dispatch: env from the query,
// else from the (decoded) state.
func (p *oauthProvider) selectEnv(env, state string) (*oauthEnv, error) {
	if env == "" && state != "" {
		st, err := oauthstate.Decode(state)
		if err != nil {
			return nil, err
		}
		env = st.Env
	}
	if env == "" {
		return nil, backstageerr.Input("Must specify 'env' query to select environment")
	}
	e, ok := p.envs[env]
	if !ok {
		return nil, backstageerr.NotFound("No configuration available for the '%s' environment of this provider.", env)
	}
	return e, nil
}

// nonceCookieAAD binds a sealed nonce cookie to its provider and to the state nonce.
func nonceCookieAAD(providerID, nonce string) string { return providerID + "|nonce|" + nonce }

// newNonceCookie returns the <p>-nonce cookie value for a sign-in whose state carries
// nonce, and the flow secrets it binds. The cookie is a random 32-byte secret, sealed
// with the session secret and the state nonce as additional data: the OIDC nonce and
// PKCE verifier derive from that secret, which only the HttpOnly cookie of the browser
// that started the sign-in holds. The state (in the callback URL, in history and logs)
// carries nothing from which they can be rebuilt, so a leaked callback URL cannot be
// completed from another browser. (Backstage's cookie holds the state nonce itself.)
func (s *Server) newNonceCookie(providerID, nonce string) (string, providers.FlowSecrets, error) {
	var secret [32]byte
	if _, err := io.ReadFull(s.rand, secret[:]); err != nil {
		return "", providers.FlowSecrets{}, err
	}
	return s.sealer.Seal(secret[:], nonceCookieAAD(providerID, nonce)), s.flowSecrets(secret[:]), nil
}

// openNonceCookie checks the callback's nonce cookie against the state nonce and
// returns the flow secrets the cookie binds. A cookie sealed for another sign-in,
// provider or secret, or any value the server did not seal, is refused.
func (s *Server) openNonceCookie(providerID, nonce, cookie string) (providers.FlowSecrets, error) {
	secret, err := s.sealer.Open(cookie, nonceCookieAAD(providerID, nonce))
	if err != nil || len(secret) != 32 || nonce == "" {
		return providers.FlowSecrets{}, backstageerr.NotAllowed("Invalid nonce")
	}
	return s.flowSecrets(secret), nil
}

// flowSecrets derives the OIDC nonce and PKCE verifier of one sign-in from the secret
// its nonce cookie holds.
func (s *Server) flowSecrets(secret []byte) providers.FlowSecrets {
	return providers.FlowSecrets{
		Nonce:        base64.RawURLEncoding.EncodeToString(s.sealer.Derive("oidc-nonce", string(secret))),
		PKCEVerifier: base64.RawURLEncoding.EncodeToString(s.sealer.Derive("pkce-verifier", string(secret))),
	}
}

// oauthStart is GET /<p>/start.
func (s *Server) oauthStart(p *oauthProvider) gin.HandlerFunc {
	return func(c *gin.Context) {
		q := c.Request.URL.Query()
		e, err := p.selectEnv(q.Get("env"), q.Get("state"))
		if err != nil {
			s.writeError(c, err)
			return
		}
		loc, nonceCookie, cookieOrigin, err := s.start(c.Request, e, q)
		if err != nil {
			s.writeError(c, err)
			return
		}
		h := c.Writer.Header()
		e.jar.SetNonce(h, nonceCookie, cookieOrigin, s.now())
		h.Set("Location", loc)
		writeBody(c, http.StatusFound, "", nil)
	}
}

// start validates the request and asks the provider for the authorization URL; it
// returns the nonce cookie value to set.
func (s *Server) start(r *http.Request, e *oauthEnv, q url.Values) (location, nonceCookie, cookieOrigin string, err error) {
	st := oauthstate.State{Flow: q.Get("flow")}
	cookieOrigin = s.appOrigin
	if raw := q.Get("origin"); raw != "" {
		o, err := origins.ParseOrigin(raw)
		if err != nil {
			return "", "", "", err
		}
		if !s.matcher.Allowed(o) {
			return "", "", "", backstageerr.NotAllowed("Origin '%s' is not allowed", o)
		}
		st.Origin, cookieOrigin = o, o
	}
	if st.Flow == "redirect" {
		u, err := s.matcher.CheckRedirectURL(q.Get("redirectUrl"))
		if err != nil {
			return "", "", "", err
		}
		st.RedirectURL = u
	}
	st.Env = q.Get("env")
	if st.Env == "" {
		return "", "", "", backstageerr.Input("No env provided in request query parameters")
	}
	var raw [16]byte
	if _, err := io.ReadFull(s.rand, raw[:]); err != nil {
		return "", "", "", err
	}
	st.Nonce = base64.StdEncoding.EncodeToString(raw[:])
	nonceCookie, secrets, err := s.newNonceCookie(e.providerID, st.Nonce)
	if err != nil {
		return "", "", "", err
	}

	lists := [][]string{splitScope(q.Get("scope"))}
	if e.scopes.Persist {
		if granted, ok := e.jar.GrantedScope(r); ok {
			lists = append(lists, splitScope(granted))
		}
	}
	scope := mergeScopes(append(lists, e.scopes.Required, e.scopes.Additional)...)
	if e.scopes.Persist {
		st.Scope = scope
	}
	res, err := e.provider.Start(r.Context(), providers.StartRequest{
		Scope:       scope,
		State:       oauthstate.Encode(st),
		CallbackURL: e.callbackURL,
		Secrets:     secrets,
		Query:       q,
	})
	if err != nil {
		return "", "", "", err
	}
	if res.URL == "" {
		return "", "", "", backstageerr.Plain("Auth provider returned no authorization URL")
	}
	return res.URL, nonceCookie, cookieOrigin, nil
}

// frameResult is what a completed (or failed) callback sends to the browser.
type frameResult struct {
	response     *signInResponse
	target       string // postMessage target origin
	redirectURL  string // redirect flow: where to send the browser
	refresh      string // sealed refresh cookie value ("" = none)
	grantedScope string
	persist      bool
	email        string // the IdP's verified email, once it authenticated the user (audit)
}

// oauthFrame is GET|POST /<p>/handler/frame, the OAuth callback.
func (s *Server) oauthFrame(p *oauthProvider) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		params := r.URL.Query()
		if r.Method == http.MethodPost {
			// Unlike Backstage, a form_post callback works: state, code and error may
			// come in the body (query values win).
			r.Body = http.MaxBytesReader(c.Writer, r.Body, maxFormBody)
			if err := r.ParseForm(); err != nil {
				s.writeError(c, backstageerr.Input("Invalid request body"))
				return
			}
			for k, vs := range r.PostForm {
				if _, inQuery := params[k]; !inQuery {
					params[k] = vs
				}
			}
		}
		stateRaw := params.Get("state")
		e, err := p.selectEnv(r.URL.Query().Get("env"), stateRaw)
		if err != nil {
			s.writeError(c, err)
			return
		}
		st, decodeErr := oauthstate.Decode(stateRaw)
		fr, err := s.frame(r, e, st, decodeErr, params)
		s.observeSignIn(c, e.providerID, fr.email, userRefOf(fr.response), params.Get("error") == "access_denied", err, audit.Medium)
		c.Writer.Header().Set("Cache-Control", "no-store")
		if err != nil {
			s.frameError(c, st, decodeErr == nil, fr.target, err)
			return
		}
		h := c.Writer.Header()
		now := s.now()
		// The sign-in is done: a replay of this callback URL, even from this browser,
		// finds no nonce cookie.
		e.jar.ClearNonce(h, fr.target, now)
		if fr.refresh != "" {
			e.jar.SetRefresh(h, r, fr.refresh, e.maxAge, fr.target, now)
		}
		if fr.persist {
			e.jar.SetGrantedScope(h, r, fr.grantedScope, e.maxAge, fr.target, now)
		}
		if fr.redirectURL != "" {
			writeRedirect(c, fr.redirectURL)
			return
		}
		s.writeFramePage(c, fr.target, authorizationResponse{Type: "authorization_response", Response: fr.response})
	}
}

// frame runs the callback. fr.target is valid even on error: the origin error
// messages are posted to (never an origin that failed the checks).
func (s *Server) frame(r *http.Request, e *oauthEnv, st oauthstate.State, decodeErr error, params url.Values) (fr frameResult, err error) {
	fr.target = s.appOrigin
	if decodeErr != nil {
		return fr, decodeErr
	}
	if st.Flow == "redirect" {
		u, err := s.matcher.CheckRedirectURL(st.RedirectURL)
		if err != nil {
			return fr, err
		}
		fr.redirectURL = u
	}
	if st.Origin != "" {
		o, err := origins.ParseOrigin(st.Origin)
		if err != nil {
			return fr, backstageerr.NotAllowed("App origin is invalid, failed to parse")
		}
		if !s.matcher.Allowed(o) {
			return fr, backstageerr.NotAllowed("Origin '%s' is not allowed", o)
		}
		fr.target = o
	}
	cookieNonce, ok := e.jar.Nonce(r)
	if !ok || cookieNonce == "" {
		return fr, backstageerr.NotAllowed("Auth response is missing cookie nonce")
	}
	secrets, err := s.openNonceCookie(e.providerID, st.Nonce, cookieNonce)
	if err != nil {
		return fr, err
	}

	ctx := r.Context()
	res, err := e.provider.Authenticate(ctx, providers.CallbackRequest{
		Params:      params,
		CallbackURL: e.callbackURL,
		Secrets:     secrets,
	})
	if err != nil {
		return fr, atStage(stageIdP, err)
	}
	fr.email = res.Profile.Email
	if e.scopes.Persist && st.Scope == "" {
		return fr, backstageerr.Authentication("No scope found in OAuth state")
	}
	scope := e.reportedScope(mergeScopes(splitScope(st.Scope)), res.ProviderInfo.Scope)
	resp, err := s.buildResponse(ctx, e, res, scope)
	if err != nil {
		return fr, err
	}
	fr.response = resp
	fr.persist = e.scopes.Persist
	fr.grantedScope = scope
	if res.Session != nil {
		now := s.now()
		ss := sealedSession{Session: res.Session, Scope: scope, IssuedAt: now.Unix()}
		if !res.SessionExpiresAt.IsZero() {
			ss.ExpiresAt = res.SessionExpiresAt.Unix()
		}
		if err := s.beginSession(ctx, e, &ss, userRefOf(resp)); err != nil {
			return fr, atStage(stageIssue, err)
		}
		if fr.refresh, err = s.seal(e, ss); err != nil {
			return fr, err
		}
	}
	return fr, nil
}

// frameError answers a failed callback as Backstage does: a 302 to app.baseUrl with
// ?error=<message> for the redirect flow, else the popup page posting the error. No
// cookie is set.
func (s *Server) frameError(c *gin.Context, st oauthstate.State, stateOK bool, target string, err error) {
	be := s.publicError(c.Request, err)
	c.Writer.Header().Del("Set-Cookie")
	if stateOK && st.Flow == "redirect" {
		u := s.errorRedir
		u.RawQuery = "error=" + formEncode(be.Message)
		writeRedirect(c, u.String())
		return
	}
	ej := s.serializeError(be, 1) // depth 1: no stack in the popup message
	s.writeFramePage(c, target, authorizationResponse{Type: "authorization_response", Error: &ej})
}

// buildResponse resolves the sign-in (when a resolver is configured), issues the
// Backstage token and assembles the response object.
func (s *Server) buildResponse(ctx context.Context, e *oauthEnv, res providers.Result, scope string) (*signInResponse, error) {
	pi := res.ProviderInfo
	pi.Scope = scope
	resp := &signInResponse{Profile: res.Profile, ProviderInfo: &pi}
	if e.resolver == nil {
		return resp, nil
	}
	id, err := e.resolver.Resolve(ctx, signInInfo(e.providerID, res.Profile, res.Claims))
	if err != nil {
		return nil, atStage(stageResolve, err)
	}
	bi, err := s.issue(ctx, id)
	if err != nil {
		return nil, atStage(stageIssue, err)
	}
	resp.BackstageIdentity = bi
	return resp, nil
}

// issue asks the issuer for a token and builds backstageIdentity
// (prepareBackstageIdentityResponse).
func (s *Server) issue(ctx context.Context, id resolvers.Identity) (*backstageIdentity, error) {
	tok, err := s.opts.Issuer.IssueUserToken(ctx, tokens.UserClaims{Sub: id.UserEntityRef, Ent: id.OwnershipEntityRefs})
	if err != nil {
		return nil, err
	}
	sub, ent := tok.Sub, tok.Ent
	if sub == "" {
		sub = id.UserEntityRef
	}
	if ent == nil {
		ent = id.OwnershipEntityRefs
	}
	if ent == nil {
		ent = []string{sub}
	}
	return &backstageIdentity{
		Token:            tok.Token,
		Identity:         userIdentity{Type: "user", UserEntityRef: sub, OwnershipEntityRefs: ent},
		ExpiresInSeconds: int64(math.Round(tok.ExpiresAt.Sub(s.now()).Seconds())),
	}, nil
}

func (s *Server) seal(e *oauthEnv, ss sealedSession) (string, error) {
	plain, err := json.Marshal(ss)
	if err != nil {
		return "", err
	}
	return s.sealer.Seal(plain, e.aad), nil
}

// openSession reads and authenticates the refresh cookie. A cookie that does not
// open (forged, tampered, sealed with another secret or for another provider/env)
// is an AuthenticationError; its content is never used.
func (s *Server) openSession(r *http.Request, e *oauthEnv) (sealedSession, error) {
	raw, ok := e.jar.Refresh(r)
	if !ok || raw == "" {
		return sealedSession{}, backstageerr.Input("Missing session cookie")
	}
	plain, err := s.sealer.Open(raw, e.aad)
	if err != nil {
		s.log.DebugContext(r.Context(), "refresh cookie rejected", "provider", e.providerID, "env", e.env, "error", err)
		return sealedSession{}, backstageerr.Authentication("Invalid session cookie, please sign in again")
	}
	var ss sealedSession
	if err := json.Unmarshal(plain, &ss); err != nil || ss.Session == nil {
		return sealedSession{}, backstageerr.Authentication("Invalid session cookie, please sign in again")
	}
	return ss, nil
}

// requireXRW is Backstage's CSRF defence for refresh and logout: a custom header a
// cross-site form or image cannot send.
func requireXRW(r *http.Request) error {
	v := r.Header.Values("X-Requested-With")
	if len(v) != 1 || v[0] != "XMLHttpRequest" {
		return backstageerr.Authentication("Invalid X-Requested-With header")
	}
	return nil
}

// requestOrigin is the Origin header when it is an allowed origin, else the app
// origin; it only picks cookie attributes (SameSite).
func (s *Server) requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" && s.matcher.Allowed(o) {
		return o
	}
	return s.appOrigin
}

// xhrEnv is the common start of /refresh and /logout: the environment, then the
// X-Requested-With check. It writes the error itself and reports whether to go on.
func (s *Server) xhrEnv(c *gin.Context, p *oauthProvider, q url.Values) (*oauthEnv, bool) {
	e, err := p.selectEnv(q.Get("env"), q.Get("state"))
	if err == nil {
		err = requireXRW(c.Request)
	}
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	return e, true
}

// oauthRefresh is GET|POST /<p>/refresh.
func (s *Server) oauthRefresh(p *oauthProvider) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		q := r.URL.Query()
		e, ok := s.xhrEnv(c, p, q)
		if !ok {
			return
		}
		resp, err := s.refresh(c, e, q)
		s.observeRefresh(c, e.providerID, err)
		if err != nil {
			c.Writer.Header().Del("Set-Cookie")
			if d, ok := idpUnavailable(err); ok {
				// The provider could not reach its IdP and decided nothing: the session
				// stands, so "try again" (503), not the "Refresh failed" 401 that the
				// frontend reads as signed out.
				c.Writer.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
				s.writeError(c, err)
				return
			}
			s.writeError(c, backstageerr.Wrap(backstageerr.NameAuthentication, s.publicError(r, err), "Refresh failed"))
			return
		}
		c.Writer.Header().Set("Cache-Control", "no-store")
		s.writeJSON(c, http.StatusOK, resp)
	}
}

// idpUnavailable reports whether a refresh failed with a provider's IdP outage: a
// ServiceUnavailableError carrying a RetryAfter (providers.Refresher's contract), and
// how long the client should wait (at least a second).
func idpUnavailable(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || !errors.As(err, &ra) {
		return 0, false
	}
	return max(ra.RetryAfter(), time.Second), true
}

func (s *Server) refresh(c *gin.Context, e *oauthEnv, q url.Values) (*signInResponse, error) {
	r := c.Request
	ctx := r.Context()
	ss, err := s.openSession(r, e)
	if err != nil {
		return nil, atStage(stageSession, err)
	}
	if err := s.checkSession(ss); err != nil {
		return nil, err
	}
	now := s.now()
	remaining := time.Unix(ss.IssuedAt, 0).Add(e.maxAge).Sub(now)
	if remaining <= 0 || (ss.ExpiresAt != 0 && now.Unix() >= ss.ExpiresAt) {
		return nil, atStage(stageExpired, backstageerr.Authentication("Session expired, please sign in again"))
	}
	// The scope is what the IdP was asked for at sign-in, never what this request asks
	// for: a scope the user has not consented to must not be reported as granted. The
	// frontend then finds it missing and opens /start, where the IdP is asked.
	scope := mergeScopes(splitScope(ss.Scope), e.scopes.Required, e.scopes.Additional)
	if e.refresher == nil {
		return nil, backstageerr.NotImplemented("This auth provider does not support refresh")
	}
	res, err := e.refresher.Refresh(ctx, providers.RefreshRequest{Session: ss.Session, Scope: scope})
	if err != nil {
		return nil, atStage(stageIdP, err)
	}
	resp, err := s.buildResponse(ctx, e, res, e.reportedScope(scope, res.ProviderInfo.Scope))
	if err != nil {
		return nil, err
	}
	// Re-seal only when the provider rotated its session (e.g. a new refresh token);
	// the session keeps its original sign-in time, and nothing else is written.
	if res.Session != nil {
		ss.Session = res.Session
		if !res.SessionExpiresAt.IsZero() {
			ss.ExpiresAt = res.SessionExpiresAt.Unix()
		}
		sealed, err := s.seal(e, ss)
		if err != nil {
			return nil, err
		}
		e.jar.SetRefresh(c.Writer.Header(), r, sealed, remaining, s.requestOrigin(r), now)
	}
	return resp, nil
}

// oauthLogout is POST /<p>/logout.
func (s *Server) oauthLogout(p *oauthProvider) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		q := r.URL.Query()
		e, ok := s.xhrEnv(c, p, q)
		if !ok {
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !s.matcher.Allowed(o) {
			s.writeError(c, backstageerr.NotAllowed("Origin '%s' is not allowed", o))
			return
		}
		var logoutURL string
		ss, err := s.openSession(r, e)
		s.observeLogout(c, e.providerID, err == nil)
		if err == nil {
			s.endSession(c, e, ss)
			// Signing out locally must not fail because the IdP did.
			if e.logouter != nil {
				if err := e.logouter.Logout(r.Context(), ss.Session); err != nil {
					s.log.WarnContext(r.Context(), "provider logout failed", "provider", e.providerID, "env", e.env, "error", err)
				}
			}
		}
		// Asked with or without a session, as Backstage asks its authenticators.
		if e.logoutURLer != nil {
			var session []byte
			if err == nil {
				session = ss.Session
			}
			ctx := providers.WithRequestOrigin(r.Context(), r.Header.Get("Origin"))
			if logoutURL, err = e.logoutURLer.LogoutURL(ctx, session); err != nil {
				s.log.WarnContext(r.Context(), "provider logout URL failed", "provider", e.providerID, "env", e.env, "error", err)
				logoutURL = ""
			}
		}
		h := c.Writer.Header()
		origin := s.requestOrigin(r)
		now := s.now()
		e.jar.ClearRefresh(h, r, origin, now)
		if e.scopes.Persist {
			e.jar.ClearGrantedScope(h, r, origin, now)
		}
		if isSafeLogoutURL(logoutURL) {
			s.writeJSON(c, http.StatusOK, struct {
				LogoutURL string `json:"logoutUrl"`
			}{logoutURL})
			return
		}
		writeBody(c, http.StatusOK, "", nil)
	}
}

// isSafeLogoutURL passes on only https: URLs and localhost, as Backstage does.
func isSafeLogoutURL(raw string) bool {
	if raw == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && u.Hostname() == "localhost")
}

// reportedScope is providerInfo.scope, Backstage's CookieScopeManager rule, for sign-in
// and refresh alike: a persisting provider reports the scope it asked the IdP for
// (asked: kept in the state at sign-in and in the sealed session); any other provider
// reports the IdP's token answer as it is, split on [\s,|] and space-joined, neither
// deduplicated nor completed with required scopes the IdP left out (Entra ID answers
// "email openid User.Read" to a request for offline_access user.read too).
func (e *oauthEnv) reportedScope(asked, answered string) string {
	if e.scopes.Persist {
		return asked
	}
	return strings.Join(splitScope(answered), " ")
}

// splitScope splits a scope string on whitespace, commas and pipes ([\s,|]).
func splitScope(s string) []string {
	if s == "" {
		return nil
	}
	return strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '|' })
}

// mergeScopes concatenates scope lists, drops duplicates (first wins) and joins them
// with single spaces.
func mergeScopes(lists ...[]string) string {
	var b strings.Builder
	seen := make(map[string]bool)
	for _, l := range lists {
		for _, sc := range l {
			if sc == "" || seen[sc] {
				continue
			}
			seen[sc] = true
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(sc)
		}
	}
	return b.String()
}

// writeRedirect is Express's res.redirect(url) for a client that accepts text.
func writeRedirect(c *gin.Context, location string) {
	h := c.Writer.Header()
	h.Set("Location", location)
	addVary(h, "Accept")
	writeBody(c, http.StatusFound, "text/plain; charset=utf-8", []byte("Found. Redirecting to "+location))
}

// formEncode is URLSearchParams' application/x-www-form-urlencoded serializer.
func formEncode(s string) string {
	const upperHex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ':
			b.WriteByte('+')
		case ch == '*' || ch == '-' || ch == '.' || ch == '_',
			'0' <= ch && ch <= '9', 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z':
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[ch>>4])
			b.WriteByte(upperHex[ch&0x0f])
		}
	}
	return b.String()
}
