package mockvendor

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// GitLab's paths (gitlab.com, or a self-managed instance at its base URL, Backstage's
// audience).
const (
	GitLabAuthorizePath = "/oauth/authorize"
	GitLabTokenPath     = "/oauth/token"
	GitLabUserPath      = "/api/v4/user"
	// GitLab is an OpenID Connect provider at its base URL: an id_token comes with the
	// openid scope.
	GitLabDiscoveryPath = "/.well-known/openid-configuration"
	GitLabKeysPath      = "/oauth/discovery/keys"
)

const gitlabKid = "mock-gitlab-kid"

func (s *Server) gitlabRoutes(mux *http.ServeMux) {
	s.codeGrantRoutes(mux, GitLabAuthorizePath, GitLabTokenPath, s.gitlabVendor)
	mux.HandleFunc("GET "+GitLabUserPath, s.gitlabUser)
	mux.HandleFunc("GET "+GitLabDiscoveryPath, s.gitlabDiscovery)
	mux.HandleFunc("GET "+GitLabKeysPath, func(w http.ResponseWriter, _ *http.Request) { writeJWKS(w, gitlabKid) })
}

func (s *Server) gitlabDiscovery(w http.ResponseWriter, r *http.Request) {
	base := cgBaseURL(r)
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer": base, "authorization_endpoint": base + GitLabAuthorizePath, "token_endpoint": base + GitLabTokenPath,
		"revocation_endpoint": base + "/oauth/revoke", "introspection_endpoint": base + "/oauth/introspect",
		"userinfo_endpoint": base + "/oauth/userinfo", "jwks_uri": base + GitLabKeysPath,
		"scopes_supported":         []string{"api", "read_api", "read_user", "openid", "profile", "email"},
		"response_types_supported": []string{"code"}, "response_modes_supported": []string{"query", "fragment", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "password", "client_credentials", "device_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"subject_types_supported":               []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                 []string{"iss", "sub", "aud", "exp", "iat", "sub_legacy", "name", "nickname", "preferred_username", "email", "email_verified", "website", "profile", "picture", "groups", "groups_direct"},
		"code_challenge_methods_supported": []string{"plain", "S256"},
	})
}

// gitlabIDToken is the id_token GitLab adds for the openid scope (profile and email
// claims with those scopes).
func (s *Server) gitlabIDToken(r *http.Request, _ string, g grant, nonce string, f Fault) string {
	scopes := strings.Fields(g.scope)
	u, ok := s.user(g.login)
	if !ok || !slices.Contains(scopes, "openid") {
		return ""
	}
	now := s.now()
	base := cgBaseURL(r)
	claims := map[string]any{"iss": base, "sub": strconv.FormatInt(u.ID, 10), "aud": s.opts.ClientID,
		"exp": now.Add(2 * time.Minute).Unix(), "iat": now.Unix(), "auth_time": now.Unix(), "sub_legacy": fmt.Sprintf("%064x", u.ID)}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if slices.Contains(scopes, "profile") {
		claims["name"], claims["nickname"], claims["preferred_username"] = u.Name, u.Login, u.Login
		claims["profile"], claims["picture"] = base+"/"+u.Login, u.AvatarURL
	}
	if slices.Contains(scopes, "email") {
		u.addEmail(claims)
	}
	return s.signIDToken(gitlabKid, claims, f)
}

// gitlabVendor is Doorkeeper's token endpoint: JSON answers with created_at, rotated
// refresh tokens, RFC 6749 error bodies.
func (s *Server) gitlabVendor() codeGrantVendor {
	return codeGrantVendor{
		vendor: "GitLab",
		// Doorkeeper (GitLab's OAuth server) shows its error page for an unknown client
		// or redirect URI.
		pages: mockkit.AuthorizePages{
			UnknownClient:       "An error has occurred: Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
			UnknownClientStatus: http.StatusUnauthorized,
			BadRedirect:         "An error has occurred: The redirect uri included is not valid.",
		},
		denied:       url.Values{"error_description": {"The resource owner or authorization server denied the request."}},
		accessPrefix: "glpat-oauth-", refreshPrefix: "glrt-", rotate: true,
		answer: func(at, rt string, g grant, _ bool) map[string]any {
			return map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int64(s.opts.AccessTokenTTL / time.Second),
				"refresh_token": rt, "scope": g.scope, "created_at": s.now().Unix()}
		},
		fail:    cgOAuthError,
		idToken: s.gitlabIDToken,
		upstreamFault: func(w http.ResponseWriter, status int) {
			writePage(w, status, "text/html; charset=utf-8", "<!DOCTYPE html><html><head><title>Something went wrong (502)</title></head><body>GitLab is not responding (mock fault: upstream body canary)</body></html>")
		},
	}
}

// gitlabUserJSON is /api/v4/user in GitLab's key order (the fields the module reads
// and a few more).
type gitlabUserJSON struct {
	ID          int64   `json:"id"`
	Username    string  `json:"username"`
	Name        string  `json:"name"`
	State       string  `json:"state"`
	Locked      bool    `json:"locked"`
	AvatarURL   string  `json:"avatar_url"`
	WebURL      string  `json:"web_url"`
	CreatedAt   string  `json:"created_at"`
	PublicEmail *string `json:"public_email"`
	Email       *string `json:"email"`
}

func (s *Server) gitlabUser(w http.ResponseWriter, r *http.Request) {
	if s.cgProfileFault(w, r, func(status int) any {
		return map[string]any{"message": http.StatusText(status) + " (mock fault: upstream body canary)"}
	}) {
		return
	}
	u, _, ok := s.cgBearerUser(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired. You can either do re-authorization or token refresh."`)
		mockkit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	web := cgBaseURL(r)
	avatar := u.AvatarURL
	if avatar == "" {
		avatar = web + "/uploads/-/system/user/avatar/" + u.Login + "/avatar.png"
	}
	mockkit.WriteJSON(w, http.StatusOK, gitlabUserJSON{
		ID: u.ID, Username: u.Login, Name: u.Name, State: "active", AvatarURL: avatar, WebURL: web + "/" + u.Login,
		CreatedAt: "2012-05-23T08:00:58Z", PublicEmail: nullable(u.Email), Email: nullable(u.Email),
	})
}
