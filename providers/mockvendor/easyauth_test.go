package mockvendor

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

func TestEasyAuth(t *testing.T) {
	s := New(Options{Personality: EasyAuth})
	h, err := s.EasyAuthHeaders(EasyAuthRequest{Login: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(h[EasyAuthIDTokenHeader], claims, func(*jwt.Token) (any, error) { return &mockkit.Key(1).PublicKey, nil }); err != nil {
		t.Fatal(err)
	}
	if claims["ver"] != "2.0" || claims["aud"] != "backstage-client" || claims["iss"] != "https://login.microsoftonline.com/"+DefaultEntraTenant+"/v2.0" ||
		claims["oid"] != h[EasyAuthPrincipalIDHeader] || claims["email"] != "alice@example.com" {
		t.Fatalf("claims %v headers %v", claims, h)
	}
	p, _ := base64.StdEncoding.DecodeString(h[EasyAuthPrincipalHeader])
	if !strings.Contains(string(p), `"val":"`+claims["oid"].(string)+`"`) {
		t.Fatalf("principal %s", p)
	}
	// The Entra ID keys that verify the token are served for the tenant.
	r := httptest.NewRequest(http.MethodGet, "https://login.microsoftonline.com/"+DefaultEntraTenant+EntraKeysPath, nil)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	var jwks struct{ Keys []map[string]any }
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &jwks) != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != entraKid {
		t.Fatalf("keys: %d %s", w.Code, w.Body)
	}
	if _, err := s.EasyAuthHeaders(EasyAuthRequest{Login: "nobody"}); err == nil {
		t.Fatal("unknown login accepted")
	}
}
