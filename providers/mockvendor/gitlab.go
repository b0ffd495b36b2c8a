package mockvendor

import (
	"net/http"
	"net/url"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// GitLab's paths (gitlab.com, or a self-managed instance at its base URL, Backstage's
// audience).
const (
	GitLabAuthorizePath = "/oauth/authorize"
	GitLabTokenPath     = "/oauth/token"
	GitLabUserPath      = "/api/v4/user"
)

func (s *Server) gitlabRoutes(mux *http.ServeMux) {
	mux.HandleFunc(GitLabAuthorizePath, s.gitlabAuthorize)
	mux.HandleFunc("POST "+GitLabTokenPath, s.gitlabToken)
	mux.HandleFunc("GET "+GitLabUserPath, s.gitlabUser)
}

func (s *Server) gitlabAuthorize(w http.ResponseWriter, r *http.Request) {
	// Doorkeeper (GitLab's OAuth server) shows its error page for an unknown client
	// or redirect URI.
	s.codeGrantAuthorize(w, r, "GitLab", mockkit.AuthorizePages{
		UnknownClient:       "An error has occurred: Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
		UnknownClientStatus: http.StatusUnauthorized,
		BadRedirect:         "An error has occurred: The redirect uri included is not valid.",
	}, url.Values{"error_description": {"The resource owner or authorization server denied the request."}}, nil)
}

// gitlabVendor is Doorkeeper's token endpoint: JSON answers with created_at, rotated
// refresh tokens, RFC 6749 error bodies.
func (s *Server) gitlabVendor() codeGrantVendor {
	return codeGrantVendor{
		accessPrefix: "glpat-oauth-", refreshPrefix: "glrt-", rotate: true,
		answer: func(at, rt string, g grant, _ bool) map[string]any {
			return map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int64(s.opts.AccessTokenTTL / time.Second),
				"refresh_token": rt, "scope": g.scope, "created_at": s.now().Unix()}
		},
		fail: cgOAuthError,
		upstreamFault: func(w http.ResponseWriter, status int) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Something went wrong (502)</title></head><body>GitLab is not responding (mock fault: upstream body canary)</body></html>"))
		},
	}
}

func (s *Server) gitlabToken(w http.ResponseWriter, r *http.Request) {
	s.codeGrantToken(w, r, s.gitlabVendor())
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
