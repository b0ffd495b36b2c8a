package mockvendor

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Bitbucket Cloud's paths: authorize and token at bitbucket.org, the user and its
// email addresses at api.bitbucket.org.
const (
	BitbucketAuthorizePath = "/site/oauth2/authorize"
	BitbucketTokenPath     = "/site/oauth2/access_token"
	BitbucketUserPath      = "/2.0/user"
	BitbucketEmailsPath    = "/2.0/user/emails"
)

func (s *Server) bitbucketRoutes(mux *http.ServeMux) {
	s.codeGrantRoutes(mux, BitbucketAuthorizePath, BitbucketTokenPath, s.bitbucketVendor)
	mux.HandleFunc("GET "+BitbucketUserPath, s.bitbucketUser)
	mux.HandleFunc("GET "+BitbucketEmailsPath, s.bitbucketEmails)
}

// bitbucketVendor: HTTP Basic client authentication, scopes (not scope) in the
// answer, refresh tokens that stay valid (no rotation).
func (s *Server) bitbucketVendor() codeGrantVendor {
	return codeGrantVendor{
		vendor: "Bitbucket",
		pages: mockkit.AuthorizePages{
			UnknownClient: "Invalid client_id", BadRedirect: "Invalid redirect_uri: this URL must match your callback URL",
		},
		denied:       url.Values{"error_description": {"access denied by user"}},
		accessPrefix: "bbat-", refreshPrefix: "bbrt-", needBasic: true,
		answer: func(at, rt string, g grant, refreshing bool) map[string]any {
			state := "authorization_code"
			if refreshing {
				state = "refresh_token"
			}
			return map[string]any{"access_token": at, "scopes": g.scope, "token_type": "bearer",
				"expires_in": int64(s.opts.AccessTokenTTL / time.Second), "state": state, "refresh_token": rt}
		},
		fail: cgOAuthError,
		upstreamFault: func(w http.ResponseWriter, status int) {
			writePage(w, status, "text/html; charset=utf-8", "<html><body><h1>Bitbucket is having trouble</h1><p>mock fault: upstream body canary</p></body></html>")
		},
	}
}

// BitbucketUUID is the mock's Bitbucket account UUID of a user id, with the braces
// Bitbucket writes it with.
func BitbucketUUID(id int64) string {
	return fmt.Sprintf("{%08x-0000-4000-8000-%012x}", id, id)
}

func bitbucketError(w http.ResponseWriter, status int, msg string) {
	mockkit.WriteJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"message": msg}})
}

// bitbucketAuth answers the request itself unless its bearer token is live.
func (s *Server) bitbucketAuth(w http.ResponseWriter, r *http.Request) (User, *grant, bool) {
	if s.cgProfileFault(w, r, func(int) any {
		return map[string]any{"type": "error", "error": map[string]any{"message": "Something went wrong (mock fault: upstream body canary)"}}
	}) {
		return User{}, nil, false
	}
	u, g, ok := s.cgBearerUser(r)
	if !ok {
		bitbucketError(w, http.StatusUnauthorized, "Access token expired. Use your refresh token to obtain a new access token.")
	}
	return u, g, ok
}

func (s *Server) bitbucketUser(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.bitbucketAuth(w, r)
	if !ok {
		return
	}
	uuid := BitbucketUUID(u.ID)
	name := nameOrLogin(u)
	esc := url.PathEscape(uuid)
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{
		"display_name": name,
		"links": map[string]any{
			"self":   map[string]any{"href": "https://api.bitbucket.org/2.0/users/" + esc},
			"avatar": map[string]any{"href": u.AvatarURL},
			"html":   map[string]any{"href": "https://bitbucket.org/" + esc + "/"},
		},
		"created_on": "2018-04-05T09:00:00.000000+00:00", "type": "user", "uuid": uuid,
		"has_2fa_enabled": nil, "username": u.Login, "is_staff": false,
		"account_id": "557058:" + strings.Trim(uuid, "{}"), "nickname": u.Login, "account_status": "active",
	})
}

func (s *Server) bitbucketEmails(w http.ResponseWriter, r *http.Request) {
	u, g, ok := s.bitbucketAuth(w, r)
	if !ok {
		return
	}
	if !strings.Contains(" "+g.scope+" ", " email ") {
		bitbucketError(w, http.StatusForbidden, "Your credentials lack one or more required privilege scopes.")
		return
	}
	values := []any{}
	if u.Email != "" {
		values = append(values, map[string]any{"is_primary": true, "is_confirmed": u.EmailVerified == nil || *u.EmailVerified, "type": "email", "email": u.Email})
	}
	values = append(values, map[string]any{"is_primary": false, "is_confirmed": true, "type": "email", "email": u.Login + "@secondary.example.org"})
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{"pagelen": 10, "values": values, "page": 1, "size": len(values)})
}
