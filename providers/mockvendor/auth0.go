package mockvendor

import (
	"fmt"
	"net/http"
	"strings"
)

// Auth0's paths on a tenant's domain (e.g. acme.us.auth0.com, reached over TLS).
const (
	Auth0AuthorizePath = "/authorize"
	Auth0TokenPath     = "/oauth/token"
	Auth0UserInfoPath  = "/userinfo"
	Auth0KeysPath      = "/.well-known/jwks.json"
	Auth0LogoutPath    = "/v2/logout"
)

const auth0Kid = "auth0-mock-NkY5QjFCMDk4RTcxQTA"

var auth0 = &oidcVendor{
	name: "Auth0", authorize: Auth0AuthorizePath, token: Auth0TokenPath, userinfo: Auth0UserInfoPath, keys: Auth0KeysPath, kid: auth0Kid,
	denied: "Unauthorized",
	// Auth0's issuer is the tenant's origin with a trailing slash.
	issuer: func(r *http.Request) string { return vendorOrigin(r, "") + "/" },
	// Auth0 answers invalid_grant with 403.
	invalidGrantStatus: http.StatusForbidden,
	subject: func(u User) string {
		if u.Sub != "" {
			return u.Sub
		}
		return fmt.Sprintf("auth0|%024x", u.ID)
	},
	claims: func(u User, scopes []string) map[string]any {
		m := standardClaims(u, scopes, "")
		if _, ok := m["name"]; ok {
			m["nickname"] = u.Login
			if _, ok := m["picture"]; !ok {
				m["picture"] = "https://s.gravatar.com/avatar/" + fmt.Sprintf("%032x", u.ID) + "?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F" + strings.ToLower(u.Login[:1]) + ".png"
			}
		}
		return m
	},
	idClaims: func(_ User, c map[string]any) { c["sid"] = randomString(32, base62) },
	accessToken: func(*http.Request, User, []string) string {
		// An opaque token (no audience was asked for).
		return randomString(32, base62+"-_")
	},
}

func (s *Server) auth0Routes(mux *http.ServeMux) {
	auth0.routes(s, mux, "", "")
	mux.HandleFunc("GET "+Auth0LogoutPath, func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("returnTo")
		if to == "" {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("OK"))
			return
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
}
