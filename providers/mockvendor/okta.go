package mockvendor

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Okta's paths: the org authorization server under /oauth2/v1 (issuer: the org URL,
// discovery at the root), a custom one under /oauth2/{authServerId}/v1 (issuer
// <org>/oauth2/<id>, discovery under it).
const (
	OktaAuthorizePath = "/oauth2/v1/authorize"
	OktaTokenPath     = "/oauth2/v1/token"
	OktaUserInfoPath  = "/oauth2/v1/userinfo"
	OktaKeysPath      = "/oauth2/v1/keys"
)

const oktaKid = "okta-mock-Xh5mKp3sT0dE9fA1bC2"

var okta = &oidcVendor{
	name: "Okta", authorize: "/authorize", token: "/token", userinfo: "/userinfo", keys: "/keys", kid: oktaKid,
	denied: "User is not assigned to the client application.",
	issuer: oktaIssuer,
	endpointBase: func(disc string) string {
		if disc == "" {
			return "/oauth2/v1"
		}
		return disc + "/v1"
	},
	subject: oktaSub,
	// Okta's profile scope has the login as preferred_username (an email address).
	claims: func(u User, scopes []string) map[string]any {
		return standardClaims(u, scopes, oktaLogin(u))
	},
	idClaims: func(u User, c map[string]any) {
		c["ver"], c["jti"], c["amr"], c["idp"] = 1, "ID."+randomString(43, base62), []string{"pwd"}, "00o1mockidp0000000x7"
		c["auth_time"] = c["iat"]
	},
	// Okta's access tokens are JWTs (of the org server or the custom one).
	accessToken: func(r *http.Request, u User, scopes []string) string {
		now := time.Now()
		iss := oktaIssuer(r)
		aud := iss
		if strings.Contains(iss, "/oauth2/") {
			aud = "api://default"
		}
		return mockkit.SignRS256(mockkit.Key(1), oktaKid, map[string]any{
			"ver": 1, "jti": "AT." + randomString(43, base62), "iss": iss, "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"cid": "backstage-client", "uid": oktaSub(u), "scp": scopes, "sub": oktaLogin(u),
		})
	},
}

func (s *Server) oktaRoutes(mux *http.ServeMux) {
	okta.routes(s, mux, "", "/oauth2/v1")
	okta.routes(s, mux, "/oauth2/{server}", "/oauth2/{server}/v1")
}

// oktaIssuer is the issuer of the authorization server a request went to.
func oktaIssuer(r *http.Request) string {
	origin := vendorOrigin(r, "")
	if rest, ok := strings.CutPrefix(r.URL.Path, "/oauth2/"); ok {
		if id, _, _ := strings.Cut(rest, "/"); id != "v1" && id != "" {
			return origin + "/oauth2/" + id
		}
	}
	return origin
}

// oktaSub is the user's Okta id (00u + 17 characters).
func oktaSub(u User) string {
	if u.Sub != "" {
		return u.Sub
	}
	return fmt.Sprintf("00u%017d", u.ID)
}

// oktaLogin is the Okta login: the email, else <login>@example.com.
func oktaLogin(u User) string {
	if u.Email != "" {
		return u.Email
	}
	return u.Login + "@example.com"
}
