package mockvendor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

func TestCFAccess(t *testing.T) {
	s := New(Options{Personality: CFAccess})
	h := s.Handler()
	get := func(path string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "https://mockteam.cloudflareaccess.com"+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	var jwks struct{ Keys []map[string]any }
	if w := get(CFAccessCertsPath); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &jwks) != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != cfAccessKid {
		t.Fatalf("certs: %d %s", w.Code, w.Body)
	}
	tok, err := s.CFAccessToken(CFAccessTokenRequest{Login: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return &mockkit.Key(1).PublicKey, nil }); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != "https://mockteam.cloudflareaccess.com" || claims["email"] != "alice@example.com" || claims["aud"].([]any)[0] != CFAccessAUD {
		t.Fatalf("claims %v", claims)
	}
	w := get(CFAccessIdentityPath, "Cookie", CFAccessCookie+"="+tok)
	var id map[string]any
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &id) != nil || id["email"] != "alice@example.com" || id["id"] != claims["sub"] {
		t.Fatalf("get-identity: %d %s", w.Code, w.Body)
	}
	bad, _ := s.CFAccessToken(CFAccessTokenRequest{BadSignature: true})
	if w := get(CFAccessIdentityPath, CFAccessHeader, bad); w.Code != 401 {
		t.Fatalf("get-identity with a forged token: %d", w.Code)
	}
	st, _ := s.CFAccessToken(CFAccessTokenRequest{ServiceToken: "x.access"})
	if p := strings.Split(st, "."); len(p) != 3 {
		t.Fatal("service token")
	}
	r := httptest.NewRequest(http.MethodPost, CFAccessTokenPath, strings.NewReader(`{"login":"nobody"}`))
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, r)
	if rw.Code != 400 {
		t.Fatalf("unknown login: %d", rw.Code)
	}
}
