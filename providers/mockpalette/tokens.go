package mockpalette

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"

	"github.com/golang-jwt/jwt/v5"
)

var b64 = base64.RawURLEncoding

func segment(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b64.EncodeToString(b)
}

func signHS256(key []byte, header, claims map[string]any) string {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	for k, v := range header {
		t.Header[k] = v
	}
	signed, err := t.SignedString(key)
	if err != nil {
		panic(fmt.Sprintf("mockpalette: sign HS256: %v", err))
	}
	return signed
}

// idToken signs claims as the current key would, applying the fault's signing tricks.
func (s *Server) idToken(claims map[string]any, f Fault) string {
	s.mu.Lock()
	key, kid := s.key, s.kid
	s.mu.Unlock()
	switch {
	case f.AlgNone:
		return segment(map[string]any{"alg": "none", "typ": "JWT"}) + "." + segment(claims) + "."
	case f.HS256WithPublicKey:
		// Algorithm confusion: HMAC keyed with the public key a verifier can fetch.
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return signHS256(pemKey, map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}, claims)
	case f.BadSignature:
		return mockkit.SignRS256(strangerKey(), kid, claims)
	}
	return mockkit.SignRS256(key, kid, claims)
}

// atHash is the at_hash claim for an RS256 ID token (OIDC Core 3.1.3.6).
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64.EncodeToString(sum[:len(sum)/2])
}

// sessionToken is Palette's HS256 session JWT (returned as refresh_token).
func (s *Server) sessionToken(u User, now time.Time) string {
	return signHS256(s.hsKey, map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{
		"email": u.Email, "exp": now.Add(s.opts.IDTokenTTL).Unix(), "iat": now.Unix(),
		"iss": "palette", "sub": u.Email, "tenant": s.opts.Tenant, "typ": "session",
	})
}

func (s *Server) jwks() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mockkit.JWKS(&s.key.PublicKey, s.kid)
}

// profileClaims are the user claims shared by the ID token and userinfo.
func profileClaims(u User, f Fault) map[string]any {
	c := map[string]any{"sub": u.Subject}
	if u.Email != "" {
		c["email"] = u.Email
	}
	if f.EmailVerified != nil {
		c["email_verified"] = f.EmailVerified
	} else if u.EmailVerified != nil {
		c["email_verified"] = *u.EmailVerified
	}
	if n := u.DisplayName(); n != "" {
		c["name"] = n
	}
	if u.GivenName != "" {
		c["given_name"] = u.GivenName
	}
	if u.FamilyName != "" {
		c["family_name"] = u.FamilyName
	}
	if u.Picture != "" {
		c["picture"] = u.Picture
	}
	if len(u.Groups) > 0 {
		c["groups"] = u.Groups
	}
	if u.PreferredUsername != "" {
		c["preferred_username"] = u.PreferredUsername
	}
	return c
}
