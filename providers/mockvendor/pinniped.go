package mockvendor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// A Pinniped Supervisor FederationDomain, whose issuer is <mock>/issuer.
const (
	PinnipedIssuerPath    = "/issuer"
	PinnipedDiscoveryPath = PinnipedIssuerPath + "/.well-known/openid-configuration"
	PinnipedJWKSPath      = PinnipedIssuerPath + "/jwks.json"
	PinnipedAuthorizePath = PinnipedIssuerPath + "/oauth2/authorize"
	PinnipedTokenPath     = PinnipedIssuerPath + "/oauth2/token"
)

// The Supervisor's lifetimes: access, ID and cluster tokens last two minutes.
const pinnipedTokenTTL = 2 * time.Minute

const pinnipedKid = "pinniped-mock-ec-1"

var (
	pinnipedKeysOnce sync.Once
	pinnipedKeys     [2]*ecdsa.PrivateKey // [0] signs; [1] is a key no JWKS has
)

func pinnipedKey(i int) *ecdsa.PrivateKey {
	pinnipedKeysOnce.Do(func() {
		for j := range pinnipedKeys {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic("mockvendor: ec key: " + err.Error())
			}
			pinnipedKeys[j] = k
		}
	})
	return pinnipedKeys[i]
}

func (s *Server) pinnipedRoutes(mux *http.ServeMux) {
	pinnipedKey(0)
	mux.HandleFunc("GET "+PinnipedDiscoveryPath, s.pinnipedDiscovery)
	mux.HandleFunc("GET "+PinnipedJWKSPath, func(w http.ResponseWriter, _ *http.Request) {
		pub := pinnipedKey(0).PublicKey
		b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
		var x, y [32]byte
		pub.X.FillBytes(x[:])
		pub.Y.FillBytes(y[:])
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"keys": []any{map[string]any{
			"kty": "EC", "crv": "P-256", "x": b64(x[:]), "y": b64(y[:]), "kid": pinnipedKid, "alg": "ES256", "use": "sig",
		}}})
	})
	mux.HandleFunc(PinnipedAuthorizePath, s.pinnipedAuthorize)
	mux.HandleFunc("POST "+PinnipedTokenPath, s.pinnipedToken)
}

func pinnipedIssuer(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + PinnipedIssuerPath
}

func (s *Server) pinnipedDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := pinnipedIssuer(r)
	// The Supervisor's document (no userinfo or revocation endpoint).
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/oauth2/authorize", "token_endpoint": iss + "/oauth2/token",
		"jwks_uri": iss + "/jwks.json", "response_types_supported": []string{"code"}, "response_modes_supported": []string{"query", "form_post"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"scopes_supported":                      []string{"openid", "offline_access", "pinniped:request-audience", "username", "groups"},
		"claims_supported":                      []string{"username", "groups", "additionalClaims"},
		"code_challenge_methods_supported":      []string{"S256"},
		"discovery.supervisor.pinniped.dev/v1alpha1": map[string]any{
			"pinniped_identity_providers_endpoint": iss + "/v1alpha1/pinniped_identity_providers",
		},
	})
}

func (s *Server) pinnipedAuthorize(w http.ResponseWriter, r *http.Request) {
	// The Supervisor requires PKCE.
	noPKCE := url.Values{"error": {"invalid_request"}, "error_description": {"The request is missing a required parameter. Clients must include a code_challenge when performing the authorize code flow."}}
	s.authorizeCode(w, r, authorizeSpec{vendor: "Pinniped",
		pages:           mockkit.AuthorizePages{UnknownClient: "invalid_client", BadRedirect: "invalid_request: redirect_uri"},
		badResponseType: noPKCE,
		check: func(q url.Values) url.Values {
			if q.Get("code_challenge") == "" {
				return noPKCE
			}
			return nil
		},
		badPKCE:   url.Values{"error": {"invalid_request"}, "error_description": {"The code_challenge_method is not supported, use S256 instead."}},
		denied:    url.Values{"error_description": {"The resource owner or authorization server denied the request."}},
		echoScope: true,
	})
}

func (s *Server) pinnipedTTL() time.Duration {
	if s.opts.AccessTokenTTL == time.Hour { // New's generic default
		return pinnipedTokenTTL
	}
	return s.opts.AccessTokenTTL
}

// pinnipedClaims are the claims of the Supervisor's tokens for u.
func (s *Server) pinnipedClaims(r *http.Request, u User, aud string) map[string]any {
	now := s.now()
	sub := u.Sub
	if sub == "" {
		sub = "ldaps://ldap.example.com:636?base=ou%3Dusers%2Cdc%3Dexample%2Cdc%3Dcom&idpName=ldap&sub=" + u.Login
	}
	groups := []string{}
	if u.Login == "alice" {
		groups = append(groups, "team-a")
	}
	return map[string]any{
		"iss": pinnipedIssuer(r), "sub": sub, "aud": []string{aud}, "azp": s.opts.ClientID,
		"iat": now.Unix(), "exp": now.Add(s.pinnipedTTL()).Unix(), "jti": randomString(20, lowerHex),
		"username": u.Login, "groups": groups,
	}
}

func pinnipedSign(claims map[string]any, f Fault) string {
	if f.IDTokenIssuer != "" {
		claims["iss"] = f.IDTokenIssuer
	}
	if f.IDTokenAudience != "" {
		claims["aud"] = []string{f.IDTokenAudience}
	}
	key := pinnipedKey(0)
	if f.BadSignature {
		key = pinnipedKey(1)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims(claims))
	t.Header["kid"] = pinnipedKid
	raw, err := t.SignedString(key)
	if err != nil {
		panic("mockvendor: sign: " + err.Error())
	}
	return raw
}

func (s *Server) pinnipedToken(w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenFault(w, r, func(w http.ResponseWriter, status int) {
		writePage(w, status, "text/plain; charset=utf-8", "upstream connect error (mock fault: upstream body canary)")
	})
	if !ok {
		return
	}
	_ = r.ParseForm()
	id, secret, basic := r.BasicAuth()
	if idOK, secretOK := s.isClient(id, secret); !basic || !idOK || !secretOK {
		oauth2Error(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).")
		return
	}
	var g grant
	var nonce string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := s.takeCode(r.PostForm.Get("code"))
		if c == nil || c.redirectURI != r.PostForm.Get("redirect_uri") || !mockkit.VerifierMatches(c.challenge, r.PostForm.Get("code_verifier")) {
			oauth2Error(w, http.StatusBadRequest, "invalid_grant", "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
			return
		}
		g, nonce = grant{login: c.login, scope: c.scope}, c.nonce
	case "refresh_token":
		old := s.takeRefresh(r.PostForm.Get("refresh_token"))
		if old == nil {
			oauth2Error(w, http.StatusBadRequest, "invalid_grant", "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
			return
		}
		g = grant{login: old.login, scope: old.scope}
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		s.pinnipedExchange(w, r, f)
		return
	default:
		oauth2Error(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	if f.Login != "" {
		g.login = f.Login
	}
	u, _ := s.user(g.login)
	ttl := s.pinnipedTTL()
	at, rt := s.issueToken("pin_at_"+randomString(43, base62), "pin_rt_", g, true)
	s.mu.Lock()
	s.access[at].expires = s.now().Add(ttl)
	s.mu.Unlock()
	claims := s.pinnipedClaims(r, u, s.opts.ClientID)
	claims["at_hash"] = atHash(at)
	if nonce != "" {
		claims["nonce"] = nonce
	}
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "expires_in": int(ttl/time.Second) - 1, "id_token": pinnipedSign(claims, f),
		"refresh_token": rt, "scope": g.scope, "token_type": "bearer",
	})
}

// pinnipedExchange is the Supervisor's RFC 8693 exchange for a cluster-scoped token.
func (s *Server) pinnipedExchange(w http.ResponseWriter, r *http.Request, f Fault) {
	p := r.PostForm
	g := s.accessGrant(p.Get("subject_token"))
	aud := p.Get("audience")
	switch {
	case p.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:access_token" || p.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:jwt":
		oauth2Error(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. Unsupported token types.")
	case g == nil:
		oauth2Error(w, http.StatusUnauthorized, "request_unauthorized", "The request could not be authorized. Invalid 'subject_token' parameter value.")
	case !slices.Contains(strings.Fields(g.scope), "pinniped:request-audience"):
		oauth2Error(w, http.StatusForbidden, "access_denied", "The resource owner or authorization server denied the request. Missing the 'pinniped:request-audience' scope.")
	case aud == "" || strings.Contains(aud, ".pinniped.dev") || aud == s.opts.ClientID:
		oauth2Error(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. requested audience cannot contain '.pinniped.dev'")
	default:
		u, _ := s.user(g.login)
		w.Header().Set("Cache-Control", "no-store")
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{
			"access_token": pinnipedSign(s.pinnipedClaims(r, u, aud), f), "issued_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_type": "N_A",
		})
	}
}
