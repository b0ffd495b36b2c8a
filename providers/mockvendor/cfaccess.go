package mockvendor

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Cloudflare Access's paths under https://<team>.cloudflareaccess.com, its header and
// cookie, and the mock's team and application AUD tag.
const (
	CFAccessCertsPath    = "/cdn-cgi/access/certs"
	CFAccessIdentityPath = "/cdn-cgi/access/get-identity"
	CFAccessHeader       = "Cf-Access-Jwt-Assertion"
	CFAccessCookie       = "CF_Authorization"
	CFAccessTeam         = "mockteam"
	CFAccessAUD          = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2"
	// CFAccessTokenPath mints an application token (POST, a CFAccessTokenRequest).
	CFAccessTokenPath = "/_mock/cfaccess/token"
)

const cfAccessKid = "2b0f4c1a7d3e5f6081920a1b2c3d4e5f60718293a4b5c6d7e8f9011223344556"

// CFAccessTokenRequest describes the application token Cloudflare Access would put in
// the Cf-Access-Jwt-Assertion header and the CF_Authorization cookie. Zero values
// take the defaults noted.
type CFAccessTokenRequest struct {
	// Team is the team name (default CFAccessTeam): iss is https://<team>.cloudflareaccess.com.
	Team string `json:"team,omitempty"`
	// Login is the user signing in (default the first user).
	Login string `json:"login,omitempty"`
	// ServiceToken makes a service token's JWT: common_name is this Client ID and sub is
	// empty.
	ServiceToken string `json:"service_token,omitempty"`
	// Audience is aud (default [CFAccessAUD]).
	Audience []string `json:"aud,omitempty"`
	// Issuer replaces iss.
	Issuer string `json:"iss,omitempty"`
	// ExpiresIn is exp - now in seconds (default 86400; negative: already expired).
	ExpiresIn int64 `json:"expires_in,omitempty"`
	// Kid replaces the key id (a kid the certs do not publish).
	Kid string `json:"kid,omitempty"`
	// BadSignature signs with a key the certs do not publish, under their kid.
	BadSignature bool `json:"bad_sig,omitempty"`
	// Email replaces the token's email claim (so it disagrees with get-identity).
	Email string `json:"email,omitempty"`
	// NoSubject leaves out both sub and common_name.
	NoSubject bool `json:"no_sub,omitempty"`
	// NoExpiry leaves out exp (Cloudflare always sets it).
	NoExpiry bool `json:"no_exp,omitempty"`
}

func (s *Server) cfAccessRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+CFAccessCertsPath, s.cfAccessCerts)
	mux.HandleFunc("GET "+CFAccessIdentityPath, s.cfAccessIdentity)
	mux.HandleFunc("POST "+CFAccessTokenPath, mintHandler("token", s.CFAccessToken))
}

// cfAccessSubject is the Access user id of u (a UUID-shaped id derived from the login).
func cfAccessSubject(u User) string {
	sum := sha256.Sum256([]byte("cfaccess:" + strings.ToLower(u.Login)))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// CFAccessToken signs an application token as Cloudflare Access would.
func (s *Server) CFAccessToken(req CFAccessTokenRequest) (string, error) {
	if req.Team == "" {
		req.Team = CFAccessTeam
	}
	if len(req.Audience) == 0 {
		req.Audience = []string{CFAccessAUD}
	}
	if req.ExpiresIn == 0 {
		req.ExpiresIn = 86400
	}
	now := s.now().Unix()
	aud := make([]any, len(req.Audience))
	for i, a := range req.Audience {
		aud[i] = a
	}
	claims := map[string]any{
		"aud": aud, "iss": "https://" + req.Team + ".cloudflareaccess.com",
		"iat": now, "nbf": now, "exp": now + req.ExpiresIn, "type": "app",
	}
	switch {
	case req.NoSubject:
	case req.ServiceToken != "":
		claims["common_name"], claims["sub"] = req.ServiceToken, ""
	default:
		u := s.opts.Users[0]
		if req.Login != "" {
			var ok bool
			if u, ok = s.user(req.Login); !ok {
				return "", fmt.Errorf("unknown login %q", req.Login)
			}
		}
		claims["sub"], claims["email"], claims["country"] = cfAccessSubject(u), u.Email, "US"
		claims["identity_nonce"] = randomString(16, base62)
	}
	if req.Email != "" {
		claims["email"] = req.Email
	}
	if req.NoExpiry {
		delete(claims, "exp")
	}
	if req.Issuer != "" {
		claims["iss"] = req.Issuer
	}
	kid := cfAccessKid
	if req.Kid != "" {
		kid = req.Kid
	}
	key := mockkit.Key(1)
	if req.BadSignature {
		key = mockkit.Key(0)
	}
	return mockkit.SignRS256(key, kid, claims), nil
}

func (s *Server) cfAccessCerts(w http.ResponseWriter, _ *http.Request) {
	writeJWKS(w, cfAccessKid)
}

// cfAccessIdentity is get-identity: the identity of the token in the header or the
// cookie, which Cloudflare checks itself (an invalid or expired token gets 401).
func (s *Server) cfAccessIdentity(w http.ResponseWriter, r *http.Request) {
	if s.profileFault(w, r, func(w http.ResponseWriter, status int) {
		writePage(w, status, "text/html; charset=utf-8", "<html><body>Cloudflare error (mock fault: upstream body canary)</body></html>")
	}) {
		return
	}
	raw := r.Header.Get(CFAccessHeader)
	if raw == "" {
		if c, err := r.Cookie(CFAccessCookie); err == nil {
			raw = c.Value
		}
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &mockkit.Key(1).PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now))
	if err != nil {
		mockkit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"err": "invalid token"})
		return
	}
	sub, _ := claims["sub"].(string)
	var u User
	found := false
	for _, c := range s.opts.Users {
		if cfAccessSubject(c) == sub {
			u, found = c, true
		}
	}
	if !found {
		mockkit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"err": "no identity for this token"})
		return
	}
	iat, _ := claims["iat"].(float64)
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	type idp struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	w.Header().Set("Cache-Control", "no-store")
	// Cloudflare's document, in its key order.
	mockkit.WriteJSON(w, http.StatusOK, struct {
		ID                 string            `json:"id"`
		Name               string            `json:"name"`
		Email              string            `json:"email"`
		AMR                []string          `json:"amr"`
		OIDCFields         map[string]string `json:"oidc_fields"`
		Groups             []any             `json:"groups"`
		IdP                idp               `json:"idp"`
		Geo                map[string]string `json:"geo"`
		UserUUID           string            `json:"user_uuid"`
		AccountID          string            `json:"account_id"`
		IAT                int64             `json:"iat"`
		IP                 string            `json:"ip"`
		AuthStatus         string            `json:"auth_status"`
		CommonName         string            `json:"common_name"`
		ServiceTokenID     string            `json:"service_token_id"`
		ServiceTokenStatus bool              `json:"service_token_status"`
		IsWarp             bool              `json:"is_warp"`
		IsGateway          bool              `json:"is_gateway"`
		Version            int               `json:"version"`
		DeviceSessions     map[string]any    `json:"device_sessions"`
	}{
		ID: sub, Name: u.Name, Email: u.Email, AMR: []string{"pwd"}, OIDCFields: map[string]string{"preferred_username": u.Login},
		Groups: []any{}, IdP: idp{ID: "0f4c2d1e-0000-4000-8000-000000000001", Type: "onetimepin"}, Geo: map[string]string{"country": "US"},
		UserUUID: sub, AccountID: "3c1f0e2d4b5a69788796a5b4c3d2e1f0", IAT: int64(iat), IP: ip, AuthStatus: "NONE",
		Version: 2, DeviceSessions: map[string]any{},
	})
}
