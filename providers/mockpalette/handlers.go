package mockpalette

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	e := s.eps
	mux.HandleFunc("GET "+e.Discovery, s.discovery)
	mux.HandleFunc(e.Authorize, s.authorize)
	mux.HandleFunc("POST "+e.Token, s.token)
	mux.HandleFunc(e.Userinfo, s.userinfo)
	mux.HandleFunc("GET "+e.JWKS, func(w http.ResponseWriter, r *http.Request) { mockkit.WriteJSON(w, http.StatusOK, s.jwks()) })
	mux.HandleFunc("POST "+e.Revoke, s.revoke)
	mux.HandleFunc("GET /_mock/next", s.mockNext)
	mux.HandleFunc("/_mock/rotate", func(w http.ResponseWriter, r *http.Request) {
		s.RotateKeys()
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "kid": s.KeyID()})
	})
	mux.HandleFunc("/_mock/revoke", func(w http.ResponseWriter, r *http.Request) {
		n := s.RevokeUser(r.URL.Query().Get("sub"))
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "revoked": n})
	})
	mux.HandleFunc("/_mock/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFault()
		s.SetUnavailable(false)
		s.SetDiscoveryIssuer("")
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.HandleFunc("GET /_mock/requests", func(w http.ResponseWriter, r *http.Request) { mockkit.WriteJSON(w, http.StatusOK, s.Requests()) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_mock/") {
			s.Record(r)
			s.mu.Lock()
			down := s.down
			s.mu.Unlock()
			if down {
				mockkit.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily_unavailable"})
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) origin(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) issuer(r *http.Request) string { return s.origin(r) + s.eps.Issuer }

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	base, e := s.origin(r), s.eps
	s.mu.Lock()
	announced := base + e.Issuer
	if s.discIss != "" {
		announced = s.discIss
	}
	s.mu.Unlock()
	grants := []string{"authorization_code"}
	scopes := []string{"openid", "profile", "email", "groups"}
	claims := []string{"sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name", "given_name", "family_name", "groups"}
	if s.opts.Personality == GenericOIDC {
		claims = append(claims, "at_hash")
	} else {
		claims = append(claims, "azp")
	}
	doc := map[string]any{
		"issuer":                                announced,
		"authorization_endpoint":                base + e.Authorize,
		"token_endpoint":                        base + e.Token,
		"userinfo_endpoint":                     base + e.Userinfo,
		"jwks_uri":                              base + e.JWKS,
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      claims,
	}
	if s.refreshGrantEnabled() {
		grants = append(grants, "refresh_token")
		scopes = append(scopes, "offline_access")
		doc["revocation_endpoint"] = base + e.Revoke
	}
	doc["grant_types_supported"] = grants
	doc["scopes_supported"] = scopes
	mockkit.WriteJSON(w, http.StatusOK, doc)
}

var loginForm = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Mock Palette sign-in</title></head><body>
<h1>Mock Palette: sign in to tenant {{.Tenant}}</h1>
<form method="post">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{range .Users}}<p><button type="submit" name="login_user" value="{{.Subject}}">{{.Email}} ({{.DisplayName}})</button></p>
{{end}}</form></body></html>
`))

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ru, ok := mockkit.CheckAuthorize(w, r, s.opts.ClientID, s.opts.RedirectURIs, mockkit.AuthorizePages{
		UnknownClient: "unknown client_id", BadRedirect: "invalid redirect_uri", Unregistered: "redirect_uri is not registered",
	})
	if !ok {
		return
	}
	q := r.Form
	redirect := q.Get("redirect_uri")
	state := q.Get("state")
	back := func(params url.Values) { mockkit.RedirectBack(w, r, ru, state, params) }
	if q.Get("response_type") != "code" {
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if !mockkit.ChallengeOK(challenge, method) {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"only S256 PKCE is supported"}})
		return
	}
	if f := s.takeFault(true); f.AuthorizeError != "" {
		p := url.Values{"error": {f.AuthorizeError}}
		if f.AuthorizeErrorDescription != "" {
			p.Set("error_description", f.AuthorizeErrorDescription)
		}
		back(p)
		return
	}
	user := s.opts.Users[0]
	if s.opts.LoginForm {
		sel := r.PostForm.Get("login_user")
		if r.Method != http.MethodPost || sel == "" {
			params := map[string]string{}
			for k := range q {
				if k != "login_user" {
					params[k] = q.Get(k)
				}
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_ = loginForm.Execute(w, map[string]any{"Tenant": s.opts.Tenant, "Params": params, "Users": s.opts.Users})
			return
		}
		u, ok := s.user(sel)
		if !ok {
			http.Error(w, "unknown user", http.StatusBadRequest)
			return
		}
		user = u
	}
	code := "mock-code-" + randomHex(16)
	s.mu.Lock()
	s.codes[code] = &codeGrant{
		clientID: s.opts.ClientID, redirectURI: redirect, challenge: challenge,
		nonce: q.Get("nonce"), scope: q.Get("scope"), user: user, expires: s.now().Add(s.opts.CodeTTL),
	}
	s.mu.Unlock()
	s.log.Info("mockpalette authorize", "user", user.Email, "client_id", s.opts.ClientID)
	back(url.Values{"code": {code}})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	mockkit.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// clientAuth accepts client_secret_basic or client_secret_post (not both at once).
func (s *Server) clientAuth(w http.ResponseWriter, r *http.Request) bool {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if r.PostForm.Get("client_secret") != "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
			return false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="mockpalette"`)
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return false
	}
	if cid := r.PostForm.Get("client_id"); cid != "" && cid != s.opts.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_request", "client_id mismatch")
		return false
	}
	return true
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	f := s.takeFault(false)
	if !mockkit.Delay(r, f.TokenDelay) {
		return
	}
	if f.TokenStatus != 0 {
		// The description is a canary: clients must not echo IdP bodies to users.
		oauthError(w, f.TokenStatus, "server_error", "mock fault: upstream body canary")
		return
	}
	if !s.clientAuth(w, r) {
		return
	}
	form := r.PostForm
	switch form.Get("grant_type") {
	case "authorization_code":
		s.codeGrant(w, r, form, f)
	case "refresh_token":
		if !s.refreshGrantEnabled() {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "refresh_token grant is not supported")
			return
		}
		s.refreshGrant(w, r, form, f)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type")
	}
}

func (s *Server) codeGrant(w http.ResponseWriter, r *http.Request, form url.Values, f Fault) {
	code := form.Get("code")
	s.mu.Lock()
	g := s.codes[code]
	delete(s.codes, code) // single use, even when the exchange fails below
	s.mu.Unlock()
	switch {
	case g == nil || s.now().After(g.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	case g.redirectURI != form.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch")
		return
	}
	verifier := form.Get("code_verifier")
	if g.challenge != "" {
		if !mockkit.VerifierMatches(g.challenge, verifier) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
			return
		}
	} else if verifier != "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier without code_challenge")
		return
	}
	user := g.user
	if f.User != nil {
		user = *f.User
	}
	s.issue(w, r, user, g.nonce, g.scope, f)
}

func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, form url.Values, f Fault) {
	rt := form.Get("refresh_token")
	s.mu.Lock()
	g := s.refresh[rt]
	delete(s.refresh, rt) // rotation: every refresh token is single-use
	s.mu.Unlock()
	if g == nil || g.clientID != s.opts.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or revoked refresh token")
		return
	}
	user := g.user
	if f.User != nil {
		user = *f.User
	}
	s.issue(w, r, user, "", g.scope, f)
}

// issue answers a token request with an ID token, access token and refresh token.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, user User, nonce, scope string, f Fault) {
	now := s.now()
	iat := now.Add(f.IssuedAtOffset)
	ttl := s.opts.IDTokenTTL
	if f.IDTokenTTL != 0 {
		ttl = f.IDTokenTTL
	}
	claims := profileClaims(user, f)
	iss := s.issuer(r)
	if f.Issuer != "" {
		iss = f.Issuer
	}
	aud := s.opts.ClientID
	if f.Audience != "" {
		aud = f.Audience
	}
	claims["iss"], claims["aud"] = iss, aud
	claims["iat"], claims["auth_time"], claims["exp"] = iat.Unix(), now.Unix(), iat.Add(ttl).Unix()
	if f.Nonce != nil {
		nonce = *f.Nonce
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	at := "mock-at-" + randomHex(16)
	generic := s.opts.Personality == GenericOIDC
	if !generic {
		claims["azp"] = aud
	}
	switch {
	case f.BadAtHash:
		claims["at_hash"] = atHash("not-" + at)
	case generic:
		claims["at_hash"] = atHash(at)
	}
	uiClaims := profileClaims(user, f)
	if f.UserinfoSubject != "" {
		uiClaims["sub"] = f.UserinfoSubject
	}
	resp := map[string]any{
		"access_token": at,
		"token_type":   "Bearer",
		"expires_in":   int64(s.opts.IDTokenTTL / time.Second),
		"id_token":     s.idToken(claims, f),
	}
	if scope != "" {
		resp["scope"] = scope
	}
	s.mu.Lock()
	s.access[at] = &accessGrant{user: user, subject: user.Subject, claims: uiClaims, expires: now.Add(s.opts.IDTokenTTL)}
	// Palette with the grant always issues a refresh token; a generic IdP only for
	// offline_access.
	issueRefresh := s.opts.RefreshGrant
	if generic {
		issueRefresh = slices.Contains(strings.Fields(scope), "offline_access")
	}
	if issueRefresh {
		rt := "mock-rt-" + randomHex(16)
		s.refresh[rt] = &refreshGrant{user: user, clientID: s.opts.ClientID, scope: scope}
		resp["refresh_token"] = rt
	}
	s.mu.Unlock()
	if !s.refreshGrantEnabled() && !f.NoSessionToken {
		resp["refresh_token"] = s.sessionToken(user, now)
	}
	mockkit.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g := s.access[tok]
	s.mu.Unlock()
	if !ok || g == nil || s.now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "unknown or expired access token")
		return
	}
	mockkit.WriteJSON(w, http.StatusOK, g.claims)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if !s.refreshGrantEnabled() {
		http.NotFound(w, r)
		return
	}
	if !s.clientAuth(w, r) {
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	delete(s.refresh, tok)
	delete(s.access, tok)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK) // RFC 7009: 200 even for unknown tokens
}

// mockNext arms a fault over HTTP with the reference mock's query names: email,
// given_name, family_name, name, sub, groups, email_verified, hs256_refresh=0, bad_sig=1,
// nonce=..., id_token_ttl=<seconds>, plus iss, aud, alg=none|hs256, iat_offset=<seconds>,
// error, error_description, token_status, token_delay_ms, userinfo_sub, bad_at_hash=1,
// permanent=1.
func (s *Server) mockNext(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f Fault
	f.Permanent = q.Get("permanent") == "1"
	if email := q.Get("email"); email != "" || q.Get("sub") != "" {
		u, ok := s.user(email)
		if !ok {
			local, _, _ := strings.Cut(email, "@")
			u = User{Subject: "u-" + local, Email: email}
		}
		if v := q.Get("sub"); v != "" {
			u.Subject = v
		}
		if v := q.Get("given_name"); v != "" {
			u.GivenName, u.Name = v, ""
		}
		if v := q.Get("family_name"); v != "" {
			u.FamilyName, u.Name = v, ""
		}
		if v := q.Get("name"); v != "" {
			u.Name = v
		}
		if q.Has("groups") {
			u.Groups = nil
			for g := range strings.SplitSeq(q.Get("groups"), ",") {
				if g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		f.User = &u
	}
	switch v := q.Get("email_verified"); v {
	case "":
	case "true":
		f.EmailVerified = true
	case "false":
		f.EmailVerified = false
	default:
		f.EmailVerified = v // e.g. "string-false" -> put "false" via email_verified=%22false%22
		if v == `"false"` {
			f.EmailVerified = "false"
		}
	}
	f.NoSessionToken = q.Get("hs256_refresh") == "0"
	f.BadSignature = q.Get("bad_sig") == "1"
	if q.Has("nonce") {
		n := q.Get("nonce")
		f.Nonce = &n
	}
	if v, err := strconv.Atoi(q.Get("id_token_ttl")); err == nil && v != 0 {
		f.IDTokenTTL = time.Duration(v) * time.Second
	}
	if v, err := strconv.Atoi(q.Get("iat_offset")); err == nil {
		f.IssuedAtOffset = time.Duration(v) * time.Second
	}
	f.Issuer, f.Audience = q.Get("iss"), q.Get("aud")
	switch q.Get("alg") {
	case "none":
		f.AlgNone = true
	case "hs256", "HS256":
		f.HS256WithPublicKey = true
	}
	f.AuthorizeError, f.AuthorizeErrorDescription = q.Get("error"), q.Get("error_description")
	if v, err := strconv.Atoi(q.Get("token_status")); err == nil {
		f.TokenStatus = v
	}
	if v, err := strconv.Atoi(q.Get("token_delay_ms")); err == nil {
		f.TokenDelay = time.Duration(v) * time.Millisecond
	}
	f.UserinfoSubject = q.Get("userinfo_sub")
	f.BadAtHash = q.Get("bad_at_hash") == "1"
	s.SetFault(f)
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "next": f})
}
