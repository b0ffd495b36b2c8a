package mockvendor

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Google's paths: the authorize endpoint and discovery at accounts.google.com; the token
// endpoint passport-google-oauth20 uses, userinfo and the keys at www.googleapis.com;
// the newer token endpoint and revocation at oauth2.googleapis.com.
const (
	GoogleAuthorizePath = "/o/oauth2/v2/auth"
	GoogleDiscoveryPath = "/.well-known/openid-configuration"
	GoogleTokenPath     = "/oauth2/v4/token"
	GoogleTokenPathNew  = "/token"
	GoogleUserInfoPath  = "/oauth2/v3/userinfo"
	GoogleCertsPath     = "/oauth2/v3/certs"
	GoogleRevokePath    = "/revoke"
)

// GoogleIssuer is the issuer Google's discovery document announces; its ID tokens
// carry it, or the scheme-less GoogleIssuerAlias.
const (
	GoogleIssuer      = "https://accounts.google.com"
	GoogleIssuerAlias = "accounts.google.com"
)

// Google's scope names: email and profile are granted as these URLs.
const (
	GoogleScopeEmail   = "https://www.googleapis.com/auth/userinfo.email"
	GoogleScopeProfile = "https://www.googleapis.com/auth/userinfo.profile"
)

var googleHosts = []string{"accounts.google.com", "www.googleapis.com", "oauth2.googleapis.com", "openidconnect.googleapis.com"}

const googleKid = "9b0c6f7e1d2a3b4c5d6e7f8091a2b3c4d5e6f708"

func (s *Server) googleRoutes(mux *http.ServeMux) {
	mux.HandleFunc(GoogleAuthorizePath, s.googleAuthorize)
	mux.HandleFunc("GET "+GoogleDiscoveryPath, s.googleDiscovery)
	mux.HandleFunc("POST "+GoogleTokenPath, s.googleToken)
	mux.HandleFunc("POST "+GoogleTokenPathNew, s.googleToken)
	mux.HandleFunc(GoogleUserInfoPath, s.googleUserInfo)
	mux.HandleFunc("GET "+GoogleCertsPath, func(w http.ResponseWriter, _ *http.Request) { writeJWKS(w, googleKid) })
	mux.HandleFunc(GoogleRevokePath, s.googleRevoke)
}

// googleOrigin is where a Google host is reached (https://<host> when the mock serves
// as Google, else the mock's own address).
func googleOrigin(r *http.Request, host string) string { return vendorOrigin(r, host, googleHosts...) }

func (s *Server) googleDiscovery(w http.ResponseWriter, r *http.Request) {
	accounts, apis, oauth2 := googleOrigin(r, "accounts.google.com"), googleOrigin(r, "www.googleapis.com"), googleOrigin(r, "oauth2.googleapis.com")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	// Google's document, in its key order.
	mockkit.WriteJSON(w, http.StatusOK, struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		DeviceEndpoint        string   `json:"device_authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		UserinfoEndpoint      string   `json:"userinfo_endpoint"`
		RevocationEndpoint    string   `json:"revocation_endpoint"`
		JWKSURI               string   `json:"jwks_uri"`
		ResponseTypes         []string `json:"response_types_supported"`
		ResponseModes         []string `json:"response_modes_supported"`
		SubjectTypes          []string `json:"subject_types_supported"`
		SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
		Scopes                []string `json:"scopes_supported"`
		AuthMethods           []string `json:"token_endpoint_auth_methods_supported"`
		Claims                []string `json:"claims_supported"`
		CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
		GrantTypes            []string `json:"grant_types_supported"`
	}{
		Issuer: googleOrigin(r, "accounts.google.com"), AuthorizationEndpoint: accounts + GoogleAuthorizePath,
		DeviceEndpoint: oauth2 + "/device/code", TokenEndpoint: oauth2 + GoogleTokenPathNew,
		UserinfoEndpoint: googleOrigin(r, "openidconnect.googleapis.com") + "/v1/userinfo", RevocationEndpoint: oauth2 + GoogleRevokePath,
		JWKSURI:       apis + GoogleCertsPath,
		ResponseTypes: []string{"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"},
		ResponseModes: []string{"query", "fragment", "form_post"}, SubjectTypes: []string{"public"},
		SigningAlgs: []string{"RS256"}, Scopes: []string{"openid", "email", "profile"},
		AuthMethods:          []string{"client_secret_post", "client_secret_basic"},
		Claims:               []string{"aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"},
		CodeChallengeMethods: []string{"plain", "S256"},
		GrantTypes:           []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
	})
}

// googleErrorPage is what Google shows for an authorize request it cannot send back.
func googleErrorPage(w http.ResponseWriter, status int, code, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html><body><h1>Access blocked: authorization error</h1><p>%s</p><p>Error %d: %s</p></body></html>", text, status, code)
}

// googleScope is a requested scope as Google grants and reports it (email and profile
// as their userinfo URLs), de-duplicated in request order.
func googleScope(requested string) []string {
	var out []string
	for _, sc := range strings.Fields(requested) {
		switch sc {
		case "email":
			sc = GoogleScopeEmail
		case "profile":
			sc = GoogleScopeProfile
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func (s *Server) googleAuthorize(w http.ResponseWriter, r *http.Request) {
	ru, ok := mockkit.CheckAuthorize(w, r, s.opts.ClientID, s.opts.RedirectURIs, mockkit.AuthorizePages{
		UnknownClient: "Error 401: invalid_client. The OAuth client was not found.", UnknownClientStatus: http.StatusUnauthorized,
		BadRedirect: "Error 400: redirect_uri_mismatch. You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy.",
	})
	if !ok {
		return
	}
	q := r.Form
	state := q.Get("state")
	if q.Get("response_type") != "code" {
		mockkit.RedirectBack(w, r, ru, state, url.Values{"error": {"unsupported_response_type"}})
		return
	}
	if q.Get("scope") == "" {
		googleErrorPage(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: scope")
		return
	}
	// Google sends no description for a denied consent.
	u, ok := s.authorizeUser(w, r, ru, authorizeAnswers{vendor: "Google",
		badPKCE: url.Values{"error": {"invalid_request"}, "error_description": {"Invalid code_challenge_method"}}})
	if !ok {
		return
	}
	c := s.newCode(code{login: u.Login, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		scope: strings.Join(googleScope(q.Get("scope")), " "), nonce: q.Get("nonce"), offline: q.Get("access_type") == "offline"})
	p := url.Values{"code": {"4/0A" + c}, "scope": {strings.Join(googleScope(q.Get("scope")), " ")}, "authuser": {"0"}, "prompt": {"consent"}}
	mockkit.RedirectBack(w, r, ru, state, p)
}

func googleTokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// googleClient checks client_secret_post or client_secret_basic.
func (s *Server) googleClient(w http.ResponseWriter, r *http.Request) bool {
	if idOK, secretOK := s.isClient(clientCredentials(r)); !idOK || !secretOK {
		googleTokenError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return false
	}
	return true
}

// googleTokenJSON is Google's token answer in its key order.
type googleTokenJSON struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token,omitempty"`
}

func (s *Server) googleToken(w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenFault(w, r, func(w http.ResponseWriter, status int) {
		// Google's front end answers its own HTML page.
		writePage(w, status, "text/html; charset=UTF-8", fmt.Sprintf("<!DOCTYPE html><html lang=en><title>Error %d (Server Error)!!1</title><p><b>%d.</b> <ins>That’s an error.</ins> mock fault: upstream body canary</html>", status, status))
	})
	if !ok {
		return
	}
	if !s.googleClient(w, r) {
		return
	}
	var (
		g       grant
		nonce   string
		refresh bool
	)
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := s.takeCode(strings.TrimPrefix(r.PostForm.Get("code"), "4/0A"))
		switch {
		case c == nil:
			googleTokenError(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
			return
		case c.redirectURI != r.PostForm.Get("redirect_uri"):
			googleTokenError(w, http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
			return
		case c.challenge != "" && !mockkit.VerifierMatches(c.challenge, r.PostForm.Get("code_verifier")):
			googleTokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid code verifier.")
			return
		}
		g, nonce, refresh = grant{login: c.login, scope: c.scope}, c.nonce, c.offline
	case "refresh_token":
		// Google's refresh tokens are not rotated: the same one keeps working until it
		// is revoked.
		s.mu.Lock()
		old := s.refresh[r.PostForm.Get("refresh_token")]
		s.mu.Unlock()
		if old == nil {
			googleTokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		sc, ok := narrowScope(old.scope, googleScope(r.PostForm.Get("scope")))
		if !ok {
			googleTokenError(w, http.StatusBadRequest, "invalid_scope", "Bad Request")
			return
		}
		g = grant{login: old.login, scope: sc}
	default:
		googleTokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	if f.Login != "" {
		g.login = f.Login
	}
	u, _ := s.user(g.login)
	at := "ya29.a0" + randomString(150, base62+"-_")
	prefix := ""
	if refresh {
		prefix = "1//0g"
	}
	at, rt := s.issueToken(at, prefix, g, true)
	resp := googleTokenJSON{AccessToken: at, ExpiresIn: int64(s.opts.AccessTokenTTL/time.Second) - 1, RefreshToken: rt, Scope: g.scope, TokenType: "Bearer"}
	scopes := strings.Fields(g.scope)
	if slices.Contains(scopes, "openid") {
		now := s.now()
		claims := map[string]any{
			"iss": googleOrigin(r, "accounts.google.com"), "azp": s.opts.ClientID, "aud": s.opts.ClientID, "sub": u.googleSub(),
			"at_hash": atHash(at), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		if u.HostedDomain != "" {
			claims["hd"] = u.HostedDomain
		}
		if nonce != "" {
			claims["nonce"] = nonce
		}
		for k, v := range u.googleClaims(scopes) {
			claims[k] = v
		}
		resp.IDToken = s.signIDToken(googleKid, claims, f)
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	w.Header().Set("Pragma", "no-cache")
	mockkit.WriteJSON(w, http.StatusOK, resp)
}

// googleSub is the user's Google account id (21 digits).
func (u User) googleSub() string {
	if u.Sub != "" {
		return u.Sub
	}
	return fmt.Sprintf("1%020d", u.ID)
}

func (u User) googlePicture() string {
	if u.AvatarURL != "" && !strings.Contains(u.AvatarURL, "github") {
		return u.AvatarURL
	}
	return "https://lh3.googleusercontent.com/a/ACg8oc" + u.googleSub() + "=s96-c"
}

// googleClaims are the profile claims of the ID token and of userinfo for the granted
// scopes (email needs userinfo.email, the name and picture userinfo.profile).
func (u User) googleClaims(scopes []string) map[string]any {
	m := map[string]any{}
	if slices.Contains(scopes, GoogleScopeProfile) {
		u.addNames(m)
		m["picture"] = u.googlePicture()
	}
	if slices.Contains(scopes, GoogleScopeEmail) {
		u.addEmail(m)
	}
	return m
}

// googleUserInfoJSON is the v3 userinfo answer in Google's key order; absent values are
// left out, as Google does.
type googleUserInfoJSON struct {
	Sub           string `json:"sub"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	Picture       string `json:"picture,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	HostedDomain  string `json:"hd,omitempty"`
}

func (s *Server) googleUserInfo(w http.ResponseWriter, r *http.Request) {
	if s.profileFault(w, r, func(w http.ResponseWriter, status int) {
		mockkit.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": "Backend Error (mock fault: upstream body canary)", "status": "INTERNAL"}})
	}) {
		return
	}
	// Google takes the token from the header or, as passport-google-oauth20 sends it,
	// from ?access_token= (the recorder shows which).
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.Form.Get("access_token")
	}
	g := s.accessGrant(tok)
	u, known := s.user(loginOf(g))
	if g == nil || !known {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		googleTokenError(w, http.StatusUnauthorized, "invalid_request", "Invalid Credentials")
		return
	}
	c := u.googleClaims(strings.Fields(g.scope))
	str := func(k string) string { v, _ := c[k].(string); return v }
	out := googleUserInfoJSON{Sub: u.googleSub(), Name: str("name"), GivenName: str("given_name"), FamilyName: str("family_name"),
		Picture: str("picture"), Email: str("email"), HostedDomain: u.HostedDomain}
	if v, ok := c["email_verified"].(bool); ok {
		out.EmailVerified = &v
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	mockkit.WriteJSON(w, http.StatusOK, out)
}

// googleRevoke ends the grant a refresh or access token belongs to (every token of the
// user for this client, as Google revokes the whole grant); the token comes in the body
// or, as google-auth-library sends it, in the query.
func (s *Server) googleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if f := s.takeFault(Fault.revoke); f.RevokeStatus != 0 {
		googleTokenError(w, f.RevokeStatus, "server_error", "mock fault: upstream body canary")
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	s.mu.Lock()
	g := s.refresh[tok]
	if g == nil {
		g = s.access[tok]
	}
	s.mu.Unlock()
	if tok == "" || g == nil {
		googleTokenError(w, http.StatusBadRequest, "invalid_token", "Token expired or revoked")
		return
	}
	s.RevokeUser(g.login)
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{})
}
