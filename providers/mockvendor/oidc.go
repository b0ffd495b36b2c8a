package mockvendor

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// What the OpenID Connect personalities (Google, Microsoft) share: the signing key and
// its JWKS, ID token faults, at_hash, and the vendor's origins.

// signIDToken signs an ID token with the personality's key (kid), or, for a
// BadSignature fault, with a key no JWKS has; the fault's iss and aud replace the
// claims'.
func (s *Server) signIDToken(kid string, claims map[string]any, f Fault) string {
	if f.IDTokenIssuer != "" {
		claims["iss"] = f.IDTokenIssuer
	}
	if f.IDTokenAudience != "" {
		claims["aud"] = f.IDTokenAudience
	}
	key := mockkit.Key(1)
	if f.BadSignature {
		key = mockkit.Key(0)
	}
	return mockkit.SignRS256(key, kid, claims)
}

// writeJWKS serves the public key of signIDToken under kid.
func writeJWKS(w http.ResponseWriter, kid string) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	mockkit.WriteJSON(w, http.StatusOK, mockkit.JWKS(&mockkit.Key(1).PublicKey, kid))
}

// atHash is the OpenID Connect at_hash of an access token (RS256: SHA-256, left half).
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// vendorOrigin is https://<host> when the request came for one of the vendor's hosts
// (the mock serving TLS as the vendor), else the request's own origin (a mock on
// 127.0.0.1 answers everything itself).
func vendorOrigin(r *http.Request, host string, vendorHosts ...string) string {
	h := r.Host
	if hn, _, err := net.SplitHostPort(h); err == nil {
		h = hn
	}
	for _, v := range vendorHosts {
		if strings.EqualFold(h, v) {
			return "https://" + host
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
