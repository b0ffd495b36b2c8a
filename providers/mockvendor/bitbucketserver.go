package mockvendor

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Bitbucket Server / Data Center's paths (at https://{host}).
const (
	BitbucketServerAuthorizePath = "/rest/oauth2/latest/authorize"
	BitbucketServerTokenPath     = "/rest/oauth2/latest/token"
	BitbucketServerWhoAmIPath    = "/plugins/servlet/applinks/whoami"
	BitbucketServerUsersPath     = "/rest/api/latest/users/"
)

func (s *Server) bitbucketServerRoutes(mux *http.ServeMux) {
	s.codeGrantRoutes(mux, BitbucketServerAuthorizePath, BitbucketServerTokenPath, s.bitbucketServerVendor)
	mux.HandleFunc("GET "+BitbucketServerWhoAmIPath, s.bitbucketServerWhoAmI)
	mux.HandleFunc("GET "+BitbucketServerUsersPath+"{slug}", s.bitbucketServerUser)
}

func (s *Server) bitbucketServerVendor() codeGrantVendor {
	return codeGrantVendor{
		vendor: "Bitbucket Data Center",
		pages: mockkit.AuthorizePages{
			UnknownClient: "The client_id is not associated with any application link.", BadRedirect: "The redirect_uri does not match the application link's redirect URL.",
		},
		denied:       url.Values{"error_description": {"The user denied the request."}},
		accessPrefix: "BBDC-", refreshPrefix: "BBDCR-", rotate: true,
		answer: func(at, rt string, g grant, _ bool) map[string]any {
			return map[string]any{"scope": g.scope, "access_token": at, "refresh_token": rt, "token_type": "bearer",
				"expires_in": int64(s.opts.AccessTokenTTL / time.Second)}
		},
		fail: cgOAuthError,
		upstreamFault: func(w http.ResponseWriter, status int) {
			writePage(w, status, "text/html;charset=UTF-8", "<html><body><h1>Bitbucket is unavailable</h1><p>mock fault: upstream body canary</p></body></html>")
		},
	}
}

func bitbucketServerErrors(w http.ResponseWriter, status int, msg, exception string) {
	mockkit.WriteJSON(w, status, map[string]any{"errors": []any{map[string]any{"context": nil, "message": msg, "exceptionName": exception}}})
}

// bitbucketServerWhoAmI answers 200 in any case, with the user's name in X-AUSERNAME
// when the bearer token is live (an anonymous caller gets no header).
func (s *Server) bitbucketServerWhoAmI(w http.ResponseWriter, r *http.Request) {
	if s.cgProfileFault(w, r, func(int) any { return map[string]any{"message": "mock fault: upstream body canary"} }) {
		return
	}
	u, _, ok := s.cgBearerUser(r)
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	if ok {
		w.Header().Set("X-AUSERNAME", u.Login)
		w.Header().Set("X-AUSERID", "1")
		_, _ = w.Write([]byte(u.Login))
	}
}

func (s *Server) bitbucketServerUser(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.cgBearerUser(r); !ok {
		bitbucketServerErrors(w, http.StatusUnauthorized, "Authentication failed. Please check your credentials and try again.", "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException")
		return
	}
	slug := r.PathValue("slug")
	u, known := s.user(slug)
	if !known || strings.ContainsAny(slug, "/?#") {
		bitbucketServerErrors(w, http.StatusNotFound, "User "+slug+" does not exist.", "com.atlassian.bitbucket.user.NoSuchUserException")
		return
	}
	name := nameOrLogin(u)
	out := map[string]any{"name": u.Login, "active": true, "displayName": name, "id": u.ID, "slug": u.Login, "type": "NORMAL",
		"links": map[string]any{"self": []any{map[string]any{"href": cgBaseURL(r) + "/users/" + u.Login}}}}
	if u.Email != "" {
		out["emailAddress"] = u.Email
	}
	if r.URL.Query().Get("avatarSize") != "" {
		out["avatarUrl"] = "/users/" + u.Login + "/avatar.png?s=" + r.URL.Query().Get("avatarSize") + "&v=1533124800000"
	}
	mockkit.WriteJSON(w, http.StatusOK, out)
}
