package mockvendor

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// OpenShift's paths: the OAuth server's (oauth-openshift.apps.<cluster>) and the API
// server's (api.<cluster>:6443), served together.
const (
	OpenShiftAuthorizePath   = "/oauth/authorize"
	OpenShiftTokenPath       = "/oauth/token"
	OpenShiftUserPath        = "/apis/user.openshift.io/v1/users/~"
	OpenShiftAccessTokenPath = "/apis/oauth.openshift.io/v1/oauthaccesstokens/"
)

// openshiftTokenTTL is the OAuth server's default accessTokenMaxAgeSeconds.
const openshiftTokenTTL = 24 * time.Hour

func (s *Server) openshiftRoutes(mux *http.ServeMux) {
	mux.HandleFunc(OpenShiftAuthorizePath, s.openshiftAuthorize)
	mux.HandleFunc("POST "+OpenShiftTokenPath, s.openshiftToken)
	mux.HandleFunc("GET "+OpenShiftUserPath, s.openshiftUser)
	mux.HandleFunc("DELETE "+OpenShiftAccessTokenPath+"{name}", s.openshiftDeleteToken)
}

func (s *Server) openshiftAuthorize(w http.ResponseWriter, r *http.Request) {
	s.authorizeCode(w, r, authorizeSpec{vendor: "OpenShift",
		pages: mockkit.AuthorizePages{
			UnknownClient: `{"error":"unauthorized_client","error_description":"The client is not authorized to request a token using this method."}`,
			BadRedirect:   `{"error":"invalid_request","error_description":"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."}`,
		},
		badResponseType: url.Values{"error": {"unsupported_response_type"}, "error_description": {"The authorization server does not support obtaining an authorization code using this method."}},
		badPKCE:         url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge_method must be S256"}},
		denied:          url.Values{"error_description": {"The resource owner or authorization server denied the request."}},
	})
}

// openshiftStatus is a Kubernetes Status object, as the API server answers errors.
func openshiftStatus(w http.ResponseWriter, code int, reason, message string) {
	mockkit.WriteJSON(w, code, map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	})
}

func (s *Server) openshiftToken(w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenFault(w, r, func(w http.ResponseWriter, status int) {
		writePage(w, status, "text/html; charset=utf-8", "<html><body><h1>Application is not available</h1><p>mock fault: upstream body canary</p></body></html>")
	})
	if !ok {
		return
	}
	_ = r.ParseForm()
	if idOK, secretOK := s.isClient(clientCredentials(r)); !idOK || !secretOK {
		oauth2Error(w, http.StatusUnauthorized, "unauthorized_client", "The client is not authorized to request a token using this method.")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauth2Error(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	c := s.takeCode(r.PostForm.Get("code"))
	if c == nil || (r.PostForm.Get("redirect_uri") != "" && r.PostForm.Get("redirect_uri") != c.redirectURI) ||
		(c.challenge != "" && !mockkit.VerifierMatches(c.challenge, r.PostForm.Get("code_verifier"))) {
		oauth2Error(w, http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
		return
	}
	g := grant{login: c.login, scope: c.scope}
	if f.Login != "" {
		g.login = f.Login
	}
	ttl := s.opts.AccessTokenTTL
	if ttl == time.Hour {
		ttl = openshiftTokenTTL // New's generic default: OpenShift's is a day
	}
	at, _ := s.issueToken("sha256~"+randomString(43, base62), "", g, false)
	s.mu.Lock()
	s.access[at].expires = s.now().Add(ttl)
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "expires_in": int(ttl / time.Second), "scope": g.scope, "token_type": "Bearer",
	})
}

// openshiftGrant is the live grant of the request's Bearer token, and the token.
func (s *Server) openshiftGrant(r *http.Request) (*grant, string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, ""
	}
	return s.accessGrant(tok), tok
}

func (s *Server) openshiftUser(w http.ResponseWriter, r *http.Request) {
	if s.profileFault(w, r, func(w http.ResponseWriter, status int) {
		openshiftStatus(w, status, "InternalError", "Internal error occurred: mock fault: upstream body canary")
	}) {
		return
	}
	g, _ := s.openshiftGrant(r)
	u, known := s.user(loginOf(g))
	if g == nil || !known {
		openshiftStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{
		"kind": "User", "apiVersion": "user.openshift.io/v1",
		"metadata": map[string]any{
			"name": u.Login, "uid": openshiftUID(u), "resourceVersion": strconv.FormatInt(u.ID, 10),
			"creationTimestamp": "2024-05-01T09:00:00Z",
		},
		"fullName":   u.Name,
		"identities": []string{"htpasswd:" + u.Login},
		"groups":     []string{"system:authenticated", "system:authenticated:oauth"},
	})
}

// openshiftUID is a stable uid for a user.
func openshiftUID(u User) string {
	sum := sha256.Sum256([]byte("openshift-user:" + u.Login))
	h := base64.RawURLEncoding.EncodeToString(sum[:])
	return strings.ToLower(h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}

// openshiftDeleteToken deletes an access token by its object name, for a caller
// holding that token (system:oauth-token-deleter, as `oc logout` uses it).
func (s *Server) openshiftDeleteToken(w http.ResponseWriter, r *http.Request) {
	g, tok := s.openshiftGrant(r)
	if g == nil {
		openshiftStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	name := r.PathValue("name")
	rest, _ := strings.CutPrefix(tok, "sha256~")
	sum := sha256.Sum256([]byte(rest))
	if name != "sha256~"+base64.RawURLEncoding.EncodeToString(sum[:]) {
		openshiftStatus(w, http.StatusNotFound, "NotFound", `oauthaccesstokens.oauth.openshift.io "`+name+`" not found`)
		return
	}
	s.mu.Lock()
	delete(s.access, tok)
	s.mu.Unlock()
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Success",
		"details": map[string]any{"name": name, "group": "oauth.openshift.io", "kind": "oauthaccesstokens"}})
}
