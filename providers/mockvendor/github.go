package mockvendor

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// GitHub's paths. The profile is served at both /user (api.github.com) and
// /api/v3/user (GitHub Enterprise Server).
const (
	GitHubAuthorizePath  = "/login/oauth/authorize"
	GitHubTokenPath      = "/login/oauth/access_token"
	GitHubUserPath       = "/user"
	GitHubEnterpriseUser = "/api/v3/user"
)

const githubDocs = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"

// GitHub's lifetimes for a GitHub App's expiring user tokens.
const githubRefreshTokenTTL = 15897600 * time.Second

func (s *Server) githubRoutes(mux *http.ServeMux) {
	mux.HandleFunc(GitHubAuthorizePath, s.githubAuthorize)
	mux.HandleFunc("POST "+GitHubTokenPath, s.githubToken)
	mux.HandleFunc("GET "+GitHubUserPath, s.githubUser)
	mux.HandleFunc("GET "+GitHubEnterpriseUser, s.githubUser)
}

func (s *Server) githubAuthorize(w http.ResponseWriter, r *http.Request) {
	// GitHub shows its 404 page for an unknown client_id.
	ru, ok := mockkit.CheckAuthorize(w, r, s.opts.ClientID, s.opts.RedirectURIs, mockkit.AuthorizePages{
		UnknownClient: "Not Found", UnknownClientStatus: http.StatusNotFound,
		BadRedirect: "The redirect_uri is not associated with this application.",
	})
	if !ok {
		return
	}
	q := r.Form
	state := q.Get("state")
	fail := func(code, desc, anchor string) {
		mockkit.RedirectBack(w, r, ru, state, url.Values{"error": {code}, "error_description": {desc}, "error_uri": {githubDocs + anchor}})
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if !mockkit.ChallengeOK(challenge, method) {
		fail("invalid_request", "Only the S256 code challenge method is supported.", "#invalid-request")
		return
	}
	if f := s.takeFault(Fault.authorize); f.AuthorizeError != "" {
		desc := f.AuthorizeErrorDescription
		if desc == "" && f.AuthorizeError == "access_denied" {
			desc = "The user has denied your application access."
		}
		fail(f.AuthorizeError, desc, "#"+strings.ReplaceAll(f.AuthorizeError, "_", "-"))
		return
	}
	u, denied, handled := s.pickUser(w, r, "GitHub")
	switch {
	case handled:
		return
	case denied:
		fail("access_denied", "The user has denied your application access.", "#access-denied")
		return
	}
	c := s.newCode(code{login: u.Login, redirectURI: q.Get("redirect_uri"), challenge: challenge, scope: githubScope(q.Get("scope"))})
	s.log.Info("mockvendor github authorize", "login", u.Login)
	mockkit.RedirectBack(w, r, ru, state, url.Values{"code": {c}})
}

// githubScope is the granted scope as GitHub reports it: comma-separated.
func githubScope(requested string) string {
	return strings.Join(strings.FieldsFunc(requested, func(r rune) bool { return r == ' ' || r == ',' }), ",")
}

// githubAnswer writes a token endpoint answer as GitHub does: JSON when the client
// accepts application/json, else form-encoded; errors too come with status 200.
func githubAnswer(w http.ResponseWriter, r *http.Request, v url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		m := make(map[string]any, len(v))
		for k := range v {
			m[k] = v.Get(k)
			if k == "expires_in" || k == "refresh_token_expires_in" {
				m[k], _ = strconv.Atoi(v.Get(k))
			}
		}
		mockkit.WriteJSON(w, http.StatusOK, m)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	_, _ = w.Write([]byte(v.Encode()))
}

func githubError(code, desc, anchor string) url.Values {
	return url.Values{"error": {code}, "error_description": {desc}, "error_uri": {githubDocs + anchor}}
}

func (s *Server) githubToken(w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenFault(w, r, func(w http.ResponseWriter, status int) {
		// GitHub's error pages are HTML; the canary must never reach a user.
		writePage(w, status, "text/html; charset=utf-8", "<html><body><h1>Unicorn!</h1><p>mock fault: upstream body canary</p></body></html>")
	})
	if !ok {
		return
	}
	if idOK, secretOK := s.isClient(clientCredentials(r)); !idOK || !secretOK {
		githubAnswer(w, r, githubError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", "#incorrect-client-credentials"))
		return
	}
	var g grant
	switch r.PostForm.Get("grant_type") {
	case "", "authorization_code":
		c := s.takeCode(r.PostForm.Get("code"))
		if c == nil {
			githubAnswer(w, r, githubError("bad_verification_code", "The code passed is incorrect or expired.", "#bad-verification-code"))
			return
		}
		if ru := r.PostForm.Get("redirect_uri"); ru != "" && ru != c.redirectURI {
			githubAnswer(w, r, githubError("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.", "#redirect-uri-mismatch"))
			return
		}
		if c.challenge != "" {
			if !mockkit.VerifierMatches(c.challenge, r.PostForm.Get("code_verifier")) {
				githubAnswer(w, r, githubError("bad_verification_code", "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.", "#bad-verification-code"))
				return
			}
		}
		g = grant{login: c.login, scope: c.scope}
	case "refresh_token":
		old := s.takeRefresh(r.PostForm.Get("refresh_token"))
		if !s.opts.ExpiringTokens || old == nil || (!old.expires.IsZero() && s.now().After(old.expires)) {
			githubAnswer(w, r, githubError("bad_refresh_token", "The refresh token passed is incorrect or expired.", "#bad-refresh-token"))
			return
		}
		g = grant{login: old.login, scope: old.scope}
	default:
		githubAnswer(w, r, githubError("unsupported_grant_type", "The grant type is not supported.", "#unsupported-grant-type"))
		return
	}
	if f.Login != "" {
		g.login = f.Login
	}
	if !s.opts.ExpiringTokens {
		// An OAuth app: a token that never expires, no refresh token.
		at, _ := s.issue("gho_", "", g, false)
		githubAnswer(w, r, url.Values{"access_token": {at}, "scope": {g.scope}, "token_type": {"bearer"}})
		return
	}
	rg := g
	rg.expires = s.now().Add(githubRefreshTokenTTL)
	at, rt := s.issueExpiring(g, rg)
	githubAnswer(w, r, url.Values{
		"access_token": {at}, "expires_in": {strconv.Itoa(int(s.opts.AccessTokenTTL / time.Second))},
		"refresh_token": {rt}, "refresh_token_expires_in": {strconv.Itoa(int(githubRefreshTokenTTL / time.Second))},
		"scope": {""}, "token_type": {"bearer"},
	})
}

// issueExpiring issues a GitHub App's ghu_ access token and ghr_ refresh token.
func (s *Server) issueExpiring(access, refresh grant) (at, rt string) {
	at, rt = s.issue("ghu_", "ghr_", access, true)
	s.mu.Lock()
	s.refresh[rt].expires = refresh.expires
	s.mu.Unlock()
	return at, rt
}

// githubUserJSON is /user in GitHub's key order.
type githubUserJSON struct {
	Login             string  `json:"login"`
	ID                int64   `json:"id"`
	NodeID            string  `json:"node_id"`
	AvatarURL         string  `json:"avatar_url"`
	GravatarID        string  `json:"gravatar_id"`
	URL               string  `json:"url"`
	HTMLURL           string  `json:"html_url"`
	Type              string  `json:"type"`
	SiteAdmin         bool    `json:"site_admin"`
	Name              *string `json:"name"`
	Company           *string `json:"company"`
	Blog              string  `json:"blog"`
	Location          *string `json:"location"`
	Email             *string `json:"email"`
	Hireable          *bool   `json:"hireable"`
	Bio               *string `json:"bio"`
	TwitterUsername   *string `json:"twitter_username"`
	NotificationEmail *string `json:"notification_email"`
	PublicRepos       int     `json:"public_repos"`
	Followers         int     `json:"followers"`
	Following         int     `json:"following"`
	CreatedAt         string  `json:"created_at"`
	UpdatedAt         string  `json:"updated_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) githubUser(w http.ResponseWriter, r *http.Request) {
	f := s.takeFault(Fault.profile)
	if !mockkit.Delay(r, f.ProfileDelay) {
		return
	}
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	if f.ProfileStatus != 0 {
		mockkit.WriteJSON(w, f.ProfileStatus, map[string]any{"message": "Server Error (mock fault: upstream body canary)"})
		return
	}
	if r.Header.Get("User-Agent") == "" {
		http.Error(w, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.", http.StatusForbidden)
		return
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		mockkit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user", "status": "401"})
		return
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(auth, "token ")
	}
	g := s.accessGrant(tok)
	u, known := s.user(loginOf(g))
	if !ok || g == nil || !known {
		mockkit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
		return
	}
	api, web := "https://api.github.com", "https://github.com"
	if strings.HasPrefix(r.URL.Path, "/api/v3/") {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		web = scheme + "://" + r.Host
		api = web + "/api/v3"
	}
	w.Header().Set("X-OAuth-Scopes", strings.ReplaceAll(g.scope, ",", ", "))
	mockkit.WriteJSON(w, http.StatusOK, githubUserJSON{
		Login: u.Login, ID: u.ID, NodeID: u.NodeID, AvatarURL: u.AvatarURL, URL: api + "/users/" + u.Login,
		HTMLURL: web + "/" + u.Login, Type: "User", Name: nullable(u.Name), Email: nullable(u.Email),
		CreatedAt: "2011-01-25T18:44:36Z", UpdatedAt: "2024-05-01T09:00:00Z",
	})
}

func loginOf(g *grant) string {
	if g == nil {
		return ""
	}
	return g.login
}
