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
	// vendor names the personality in the log; pages, denied and check are its
	// authorize endpoint's answers (see codeGrantAuthorize).
	vendor string
	pages  mockkit.AuthorizePages
	denied url.Values
	check  func(q url.Values) url.Values

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

// codeGrantErrors are the RFC 6749 descriptions these vendors answer.
var codeGrantErrors = grantErrors{
	unknownCode:           "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
	redirectMismatch:      "The redirect_uri does not match the one of the authorization request.",
	badVerifier:           "The code_verifier does not match the code_challenge.",
	badRefresh:            "The refresh token is invalid, expired or revoked.",
	wideScope:             "The requested scope exceeds the scope granted by the resource owner.",
	unsupportedGrantTypes: "The authorization grant type is not supported by the authorization server.",
}

// codeGrantToken is a token endpoint for the authorization_code and refresh_token
// grants, with v's shapes.
func (s *Server) codeGrantToken(w http.ResponseWriter, r *http.Request, v codeGrantVendor) {
	f, ok := s.tokenFault(w, r, v.upstreamFault)
	if !ok {
		return
	}
	_ = r.ParseForm()
	if !s.cgClientOK(r, v.needBasic) {
		v.fail(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	// A refresh keeps the granted scope (a narrower request is only checked).
	red, ok := s.redeemGrant(w, r, f, refreshPolicy{rotate: v.rotate, keepScope: true}, codeGrantErrors, v.fail)
	if !ok {
		return
	}
	refreshPrefix := v.refreshPrefix
	if red.keep != "" {
		refreshPrefix = ""
	}
	at, rt := s.issue(v.accessPrefix, refreshPrefix, red.g, true)
	if red.keep != "" {
		rt = red.keep
	}
	answer := v.answer(at, rt, red.g, red.refreshing)
	if v.idToken != nil {
		if idt := v.idToken(r, at, red.g, red.nonce, f); idt != "" {
			answer["id_token"] = idt
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, http.StatusOK, answer)
}

// codeGrantRoutes serves v's authorize and token endpoints at these paths.
func (s *Server) codeGrantRoutes(mux *http.ServeMux, authorizePath, tokenPath string, v func() codeGrantVendor) {
	mux.HandleFunc(authorizePath, func(w http.ResponseWriter, r *http.Request) { s.codeGrantAuthorize(w, r, v()) })
	mux.HandleFunc("POST "+tokenPath, func(w http.ResponseWriter, r *http.Request) { s.codeGrantToken(w, r, v()) })
}

// codeGrantAuthorize is v's authorize endpoint.
func (s *Server) codeGrantAuthorize(w http.ResponseWriter, r *http.Request, v codeGrantVendor) {
	s.authorizeCode(w, r, authorizeSpec{vendor: v.vendor, pages: v.pages, check: v.check, denied: v.denied,
		badResponseType: url.Values{"error": {"unsupported_response_type"}, "error_description": {"The authorization server does not support obtaining an authorization code using this method."}},
		badPKCE:         url.Values{"error": {"invalid_request"}, "error_description": {"The code challenge method is not supported."}},
	})
}

// authorizeSpec is what differs between the personalities' authorize endpoints for
// the code flow.
type authorizeSpec struct {
	vendor string
	pages  mockkit.AuthorizePages
	// badResponseType is the redirect's error for a response_type other than code.
	badResponseType url.Values
	// check, when set, returns the redirect's error for a request it refuses (nil: none).
	check func(q url.Values) url.Values
	// badPKCE and denied are authorizeUser's answers.
	badPKCE, denied url.Values
	// echoScope: the redirect back carries the scope too (Pinniped).
	echoScope bool
}

// authorizeCode is an authorize endpoint that checks the client, redirect_uri,
// response_type and a's extra required parameters, then runs the shared steps and
// redirects back with a code.
func (s *Server) authorizeCode(w http.ResponseWriter, r *http.Request, a authorizeSpec) {
	ru, ok := mockkit.CheckAuthorize(w, r, s.opts.ClientID, s.opts.RedirectURIs, a.pages)
	if !ok {
		return
	}
	q := r.Form
	state := q.Get("state")
	if q.Get("response_type") != "code" {
		mockkit.RedirectBack(w, r, ru, state, a.badResponseType)
		return
	}
	if a.check != nil {
		if bad := a.check(q); bad != nil {
			mockkit.RedirectBack(w, r, ru, state, bad)
			return
		}
	}
	u, ok := s.authorizeUser(w, r, ru, authorizeAnswers{vendor: a.vendor, badPKCE: a.badPKCE, denied: a.denied})
	if !ok {
		return
	}
	c := s.newCode(code{login: u.Login, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("scope"), nonce: q.Get("nonce")})
	s.log.Info("mockvendor authorize", "vendor", a.vendor, "login", u.Login)
	back := url.Values{"code": {c}}
	if a.echoScope {
		back.Set("scope", q.Get("scope"))
	}
	mockkit.RedirectBack(w, r, ru, state, back)
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
	return s.profileFault(w, r, func(w http.ResponseWriter, status int) { mockkit.WriteJSON(w, status, body(status)) })
}

// baseURL is the scheme and host the request came to.
func cgBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// nameOrLogin is the name these vendors show: the user's, else the login.
func nameOrLogin(u User) string {
	if u.Name == "" {
		return u.Login
	}
	return u.Name
}
