package mockvendor

import (
	"net/http"
	"strconv"
)

// OneLogin's OpenID Connect paths under a subdomain (https://<sub>.onelogin.com/oidc/2).
const (
	OneLoginIssuerPath    = "/oidc/2"
	OneLoginAuthorizePath = OneLoginIssuerPath + "/auth"
	OneLoginTokenPath     = OneLoginIssuerPath + "/token"
	OneLoginMePath        = OneLoginIssuerPath + "/me"
	OneLoginCertsPath     = OneLoginIssuerPath + "/certs"
)

const oneLoginKid = "JRcO4nxs5jgc8YdN7I2hLO4V_ql1bdoiMXmcYgHm4Hs"

var oneLogin = &oidcVendor{
	name: "OneLogin", authorize: "/auth", token: "/token", userinfo: "/me", keys: "/certs", kid: oneLoginKid,
	denied: "End user denied access",
	issuer: func(r *http.Request) string { return vendorOrigin(r, "") + OneLoginIssuerPath },
	// Backstage asks for openid only; OneLogin still issues a refresh token and /me
	// answers the whole profile.
	refreshWithoutOffline: true,
	userinfoWithoutScope:  true,
	subject: func(u User) string {
		if u.Sub != "" {
			return u.Sub
		}
		return strconv.FormatInt(90000000+u.ID, 10)
	},
	claims:      func(u User, scopes []string) map[string]any { return standardClaims(u, scopes, u.Login) },
	accessToken: func(*http.Request, User, []string) string { return randomString(64, base62) },
}

func (s *Server) oneLoginRoutes(mux *http.ServeMux) {
	oneLogin.routes(s, mux, OneLoginIssuerPath, OneLoginIssuerPath)
}
