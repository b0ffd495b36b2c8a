package mockvendor

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// oidcVendor is what the OpenID Connect vendors whose host the operator configures
// (Okta, OneLogin, Auth0) have in common: discovery, authorize, token, userinfo and
// keys under one base path, JSON errors, RS256 ID tokens with at_hash and the nonce.
// Each personality's file fills in its shapes.
type oidcVendor struct {
	name string
	// issuer is the issuer a request was made under (its path says which
	// authorization server).
	issuer func(r *http.Request) string
	// paths under the base: authorize, token, userinfo, keys.
	authorize, token, userinfo, keys string
	kid                              string
	// rotate: a refresh grant returns a new refresh token and ends the old one.
	rotate bool
	// refreshWithoutOffline: a refresh token is issued without offline_access.
	refreshWithoutOffline bool
	// invalidGrantStatus is the token endpoint's status for invalid_grant (Auth0: 403).
	invalidGrantStatus int
	// denied is the description of a denied consent.
	denied string
	// accessToken returns a new access token for user u with these scopes.
	accessToken func(r *http.Request, u User, scopes []string) string
	// claims are the profile claims for the granted scopes (ID token and userinfo).
	claims func(u User, scopes []string) map[string]any
	// endpointBase maps the discovery document's base path to the endpoints' (nil:
	// the same).
	endpointBase func(discBase string) string
	// subject is the user's sub.
	subject func(u User) string
	// idClaims adds vendor claims to an ID token.
	idClaims func(u User, claims map[string]any)
	// userinfoWithoutScope: userinfo answers the whole profile whatever the scope
	// (OneLogin's /me).
	userinfoWithoutScope bool
}

// routes serves discovery under disc and the endpoints under base (mux patterns, with
// wildcards for Okta's authorization server ids).
func (v *oidcVendor) routes(s *Server, mux *http.ServeMux, disc, base string) {
	mux.HandleFunc("GET "+disc+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		s.oidcVendorDiscovery(v, w, r)
	})
	mux.HandleFunc(base+v.authorize, func(w http.ResponseWriter, r *http.Request) { s.oidcVendorAuthorize(v, w, r) })
	mux.HandleFunc("POST "+base+v.token, func(w http.ResponseWriter, r *http.Request) { s.oidcVendorToken(v, w, r) })
	mux.HandleFunc(base+v.userinfo, func(w http.ResponseWriter, r *http.Request) { s.oidcVendorUserInfo(v, w, r) })
	mux.HandleFunc("GET "+base+v.keys, func(w http.ResponseWriter, _ *http.Request) { writeJWKS(w, v.kid) })
}

func (s *Server) oidcVendorDiscovery(v *oidcVendor, w http.ResponseWriter, r *http.Request) {
	iss := v.issuer(r)
	origin := vendorOrigin(r, "")
	// The endpoints sit beside the discovery document's path.
	base := strings.TrimSuffix(r.URL.Path, "/.well-known/openid-configuration")
	if v.endpointBase != nil {
		base = v.endpointBase(base)
	}
	w.Header().Set("Cache-Control", "max-age=86400")
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "authorization_endpoint": origin + base + v.authorize, "token_endpoint": origin + base + v.token,
		"userinfo_endpoint": origin + base + v.userinfo, "jwks_uri": origin + base + v.keys,
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "scopes_supported": []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func oidcVendorError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	mockkit.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

func (s *Server) oidcVendorAuthorize(v *oidcVendor, w http.ResponseWriter, r *http.Request) {
	s.authorizeCode(w, r, authorizeSpec{vendor: v.name,
		pages: mockkit.AuthorizePages{
			UnknownClient: v.name + ": invalid_client: The client_id is not valid.", BadRedirect: v.name + ": invalid_request: The redirect_uri is not valid.",
		},
		badResponseType: url.Values{"error": {"unsupported_response_type"}, "error_description": {"The response type is not supported by the authorization server."}},
		check: func(q url.Values) url.Values {
			if !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
				return url.Values{"error": {"invalid_scope"}, "error_description": {"The authorization server requires the openid scope."}}
			}
			return nil
		},
		badPKCE: url.Values{"error": {"invalid_request"}, "error_description": {"The code_challenge_method is not supported."}},
		denied:  url.Values{"error_description": {v.denied}},
	})
}

// oidcVendorClient accepts client_secret_basic (also with Okta's stray colon, "Basic:
// <base64>", which @davidzemon/passport-okta-oauth sends and Okta accepts) or
// client_secret_post.
func (s *Server) oidcVendorClient(r *http.Request) bool {
	id, secret := clientCredentials(r)
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic: "); ok {
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h)); err == nil {
			id, secret, _ = strings.Cut(string(b), ":")
		}
	}
	idOK, secretOK := s.isClient(id, secret)
	return idOK && secretOK
}

func (s *Server) oidcVendorToken(v *oidcVendor, w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenFault(w, r, func(w http.ResponseWriter, status int) {
		oidcVendorError(w, status, "server_error", "mock fault: upstream body canary")
	})
	if !ok {
		return
	}
	_ = r.ParseForm()
	if !s.oidcVendorClient(r) {
		oidcVendorError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	red, ok := s.redeemGrant(w, r, f, refreshPolicy{rotate: v.rotate}, grantErrors{
		invalidGrantStatus:    v.invalidGrantStatus,
		unknownCode:           "The authorization code is invalid or has expired.",
		redirectMismatch:      "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
		badVerifier:           "PKCE verification failed.",
		badRefresh:            "The refresh token is invalid or expired.",
		wideScope:             "The requested scope is invalid, unknown, or malformed.",
		unsupportedGrantTypes: "The authorization grant type is not supported by the authorization server.",
	}, oidcVendorError)
	if !ok {
		return
	}
	g, nonce, refresh := red.g, red.nonce, red.keep
	u, _ := s.user(g.login)
	scopes := strings.Fields(g.scope)
	prefix := ""
	if refresh == "" && (v.refreshWithoutOffline || slices.Contains(scopes, "offline_access")) {
		prefix = "rt."
	}
	at, rt := s.issueToken(v.accessToken(r, u, scopes), prefix, grant{login: g.login, scope: g.scope}, true)
	if refresh != "" {
		rt = refresh
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": int64(s.opts.AccessTokenTTL / time.Second), "access_token": at, "scope": g.scope}
	if rt != "" {
		resp["refresh_token"] = rt
	}
	if slices.Contains(scopes, "openid") {
		now := s.now()
		claims := map[string]any{"sub": v.subject(u), "iss": v.issuer(r), "aud": s.opts.ClientID,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "at_hash": atHash(at)}
		if nonce != "" {
			claims["nonce"] = nonce
		}
		for k, val := range v.claims(u, scopes) {
			claims[k] = val
		}
		if v.idClaims != nil {
			v.idClaims(u, claims)
		}
		resp["id_token"] = s.signIDToken(v.kid, claims, f)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	mockkit.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) oidcVendorUserInfo(v *oidcVendor, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.profileFault(w, r, func(w http.ResponseWriter, status int) {
		oidcVendorError(w, status, "server_error", "mock fault: upstream body canary")
	}) {
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		// Auth0 takes ?access_token= too, as passport-auth0 sends it.
		tok = r.URL.Query().Get("access_token")
	}
	g := s.accessGrant(tok)
	u, known := s.user(loginOf(g))
	if g == nil || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid."`)
		oidcVendorError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid.")
		return
	}
	scopes := strings.Fields(g.scope)
	if v.userinfoWithoutScope {
		scopes = append(scopes, "profile", "email")
	}
	out := map[string]any{"sub": v.subject(u)}
	for k, val := range v.claims(u, scopes) {
		out[k] = val
	}
	w.Header().Set("Cache-Control", "no-cache, no-store")
	mockkit.WriteJSON(w, http.StatusOK, out)
}

// standardClaims are the OpenID Connect profile and email claims of u for the scopes;
// username is preferred_username ("" leaves it out).
func standardClaims(u User, scopes []string, username string) map[string]any {
	m := map[string]any{}
	if slices.Contains(scopes, "profile") {
		u.addNames(m)
		if username != "" {
			m["preferred_username"] = username
		}
		if u.AvatarURL != "" {
			m["picture"] = u.AvatarURL
		}
	}
	if slices.Contains(scopes, "email") {
		u.addEmail(m)
	}
	return m
}

// addNames adds u's name, given_name and family_name claims (those it has) to m.
func (u User) addNames(m map[string]any) {
	if u.Name != "" {
		m["name"] = u.Name
	}
	if u.GivenName != "" {
		m["given_name"] = u.GivenName
	}
	if u.FamilyName != "" {
		m["family_name"] = u.FamilyName
	}
}

// addEmail adds u's email and email_verified claims to m, when u has an email.
func (u User) addEmail(m map[string]any) {
	if u.Email != "" {
		m["email"] = u.Email
		m["email_verified"] = u.EmailVerified == nil || *u.EmailVerified
	}
}

// narrowScope is a refresh grant's scope: the requested one when it is within the
// granted one (RFC 6749 6: narrower, never wider; false otherwise), the granted one
// when none is requested.
func narrowScope(granted string, requested []string) (string, bool) {
	if len(requested) == 0 {
		return granted, true
	}
	have := strings.Fields(granted)
	for _, x := range requested {
		if !slices.Contains(have, x) {
			return "", false
		}
	}
	return strings.Join(requested, " "), true
}
