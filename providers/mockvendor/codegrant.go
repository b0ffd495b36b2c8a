package mockvendor

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// codeGrantVendor is what differs between the personalities whose token endpoints are
// plain RFC 6749 JSON (GitLab, Bitbucket Cloud, Bitbucket Server, Atlassian): the
// token prefixes, whether refresh tokens rotate, the answer's shape and the vendor's
// error bodies. codeGrantToken runs the endpoint with them.
type codeGrantVendor struct {
	accessPrefix, refreshPrefix string
	// rotate issues a new refresh token on refresh (else the same one stays valid).
	rotate bool
	// needBasic: the client must authenticate with HTTP Basic (Bitbucket Cloud also
	// accepts the body, but its Basic header must then agree).
	needBasic bool
	// answer is the successful token answer for the grant; refreshing says which grant.
	answer func(at, rt string, g grant, refreshing bool) map[string]any
	// fail writes the vendor's OAuth error answer.
	fail func(w http.ResponseWriter, status int, code, desc string)
	// upstreamFault writes the answer of an armed TokenStatus fault.
	upstreamFault func(w http.ResponseWriter, status int)
	// idToken, when set, is the answer's id_token for the grant ("" for none); nonce is
	// the authorize request's ("" on refresh), f the armed token fault.
	idToken func(r *http.Request, at string, g grant, nonce string, f Fault) string
}

// cgOAuthError is the RFC 6749 error body most vendors send.
func cgOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// cgClientOK checks every credential the request carries (HTTP Basic and the body's);
// all must be the registered client's, and there must be one.
func (s *Server) cgClientOK(r *http.Request, needBasic bool) bool {
	type cred struct{ id, secret string }
	var creds []cred
	id, secret, basic := r.BasicAuth()
	if basic {
		creds = append(creds, cred{id, secret})
	}
	if needBasic && !basic {
		return false
	}
	if r.PostForm.Has("client_secret") {
		creds = append(creds, cred{r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")})
	}
	ok := len(creds) > 0
	for _, c := range creds {
		idOK, secretOK := s.isClient(c.id, c.secret)
		ok = ok && idOK && secretOK
	}
	return ok
}

// codeGrantToken is a token endpoint for the authorization_code and refresh_token
// grants, with v's shapes.
func (s *Server) codeGrantToken(w http.ResponseWriter, r *http.Request, v codeGrantVendor) {
	f := s.takeFault(Fault.token)
	if !mockkit.Delay(r, f.TokenDelay) {
		return
	}
	if f.TokenStatus != 0 {
		v.upstreamFault(w, f.TokenStatus)
		return
	}
	_ = r.ParseForm()
	if !s.cgClientOK(r, v.needBasic) {
		v.fail(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	var g grant
	refreshing := false
	var keep, nonce string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := s.takeCode(r.PostForm.Get("code"))
		switch {
		case c == nil:
			v.fail(w, http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
			return
		case c.redirectURI != r.PostForm.Get("redirect_uri"):
			v.fail(w, http.StatusBadRequest, "invalid_grant", "The redirect_uri does not match the one of the authorization request.")
			return
		case c.challenge != "" && !mockkit.VerifierMatches(c.challenge, r.PostForm.Get("code_verifier")):
			v.fail(w, http.StatusBadRequest, "invalid_grant", "The code_verifier does not match the code_challenge.")
			return
		}
		g = grant{login: c.login, scope: c.scope}
		nonce = c.nonce
	case "refresh_token":
		refreshing = true
		rt := r.PostForm.Get("refresh_token")
		var old *grant
		if v.rotate {
			old = s.takeRefresh(rt)
		} else {
			s.mu.Lock()
			old = s.refresh[rt]
			s.mu.Unlock()
			keep = rt
		}
		if old == nil {
			v.fail(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired or revoked.")
			return
		}
		g = grant{login: old.login, scope: old.scope}
		if _, ok := narrowScope(old.scope, strings.Fields(r.PostForm.Get("scope"))); !ok {
			v.fail(w, http.StatusBadRequest, "invalid_scope", "The requested scope exceeds the scope granted by the resource owner.")
			return
		}
	default:
		v.fail(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	if f.Login != "" {
		g.login = f.Login
	}
	refreshPrefix := v.refreshPrefix
	if keep != "" {
		refreshPrefix = ""
	}
	at, rt := s.issue(v.accessPrefix, refreshPrefix, g, true)
	if keep != "" {
		rt = keep
	}
	answer := v.answer(at, rt, g, refreshing)
	if v.idToken != nil {
		if idt := v.idToken(r, at, g, nonce, f); idt != "" {
			answer["id_token"] = idt
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, http.StatusOK, answer)
}

// codeGrantAuthorize is an authorize endpoint that checks the client, redirect_uri,
// response_type and any extra required parameters, then runs the shared steps and
// redirects back with a code. It returns false when it answered otherwise.
func (s *Server) codeGrantAuthorize(w http.ResponseWriter, r *http.Request, vendor string, pages mockkit.AuthorizePages, denied url.Values, check func(q url.Values) url.Values) {
	ru, ok := mockkit.CheckAuthorize(w, r, s.opts.ClientID, s.opts.RedirectURIs, pages)
	if !ok {
		return
	}
	q := r.Form
	state := q.Get("state")
	if q.Get("response_type") != "code" {
		mockkit.RedirectBack(w, r, ru, state, url.Values{"error": {"unsupported_response_type"}, "error_description": {"The authorization server does not support obtaining an authorization code using this method."}})
		return
	}
	if check != nil {
		if bad := check(q); bad != nil {
			mockkit.RedirectBack(w, r, ru, state, bad)
			return
		}
	}
	u, ok := s.authorizeUser(w, r, ru, authorizeAnswers{vendor: vendor,
		badPKCE: url.Values{"error": {"invalid_request"}, "error_description": {"The code challenge method is not supported."}},
		denied:  denied})
	if !ok {
		return
	}
	c := s.newCode(code{login: u.Login, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("scope"), nonce: q.Get("nonce")})
	s.log.Info("mockvendor authorize", "vendor", vendor, "login", u.Login)
	mockkit.RedirectBack(w, r, ru, state, url.Values{"code": {c}})
}

// bearerUser returns the user of a live "Authorization: Bearer" access token.
func (s *Server) cgBearerUser(r *http.Request) (User, *grant, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return User{}, nil, false
	}
	g := s.accessGrant(tok)
	u, known := s.user(loginOf(g))
	return u, g, g != nil && known
}

// profileFault answers an armed profile fault (after its delay) with the vendor's
// error body; it reports whether it answered (or the request ended).
func (s *Server) cgProfileFault(w http.ResponseWriter, r *http.Request, body func(status int) any) bool {
	f := s.takeFault(Fault.profile)
	if !mockkit.Delay(r, f.ProfileDelay) {
		return true
	}
	if f.ProfileStatus != 0 {
		mockkit.WriteJSON(w, f.ProfileStatus, body(f.ProfileStatus))
		return true
	}
	return false
}

// baseURL is the scheme and host the request came to.
func cgBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
