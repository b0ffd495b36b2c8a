package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const xrw = "X-Requested-With"

func startURL(s *server, extra string) string {
	return s.auth("/spectrocloud/start?scope=openid%20profile%20email&origin=" + url.QueryEscape(s.AppURL) + extra + "&env=development")
}

func refreshURL(s *server) string {
	return s.auth("/spectrocloud/refresh?optional&scope=openid%20profile%20email&env=development")
}

// signInPopup runs the popup flow to the frame page and returns the posted message.
func signInPopup(t *testing.T, b *browser, s *server) map[string]any {
	t.Helper()
	resp, body := b.get(startURL(s, "&flow=popup"))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/api/auth/spectrocloud/handler/frame" {
		t.Fatalf("popup flow ended at %s with %d:\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	return popupMessage(t, body)
}

func idTokenAlg(t *testing.T, tok string) string {
	t.Helper()
	part, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("idToken is not a JWT: %q", tok)
	}
	var h struct{ Alg string }
	_ = json.Unmarshal(raw, &h)
	return h.Alg
}

func checkIdentity(t *testing.T, s *server, resp any, wantOwnership []string) string {
	t.Helper()
	token := identity(t, s, resp.(map[string]any), "alice", wantOwnership[1:]...)
	idt, _ := dig(resp, "providerInfo", "idToken").(string)
	if alg := idTokenAlg(t, idt); alg != "RS256" {
		t.Errorf("providerInfo.idToken must be the IdP's RS256 ID token, alg = %q", alg)
	}
	scope, _ := dig(resp, "providerInfo", "scope").(string)
	for _, want := range []string{"openid", "profile", "email"} {
		if !slices.Contains(strings.Fields(scope), want) {
			t.Errorf("providerInfo.scope %q lacks %s", scope, want)
		}
	}
	if dig(resp, "profile", "email") != "alice@example.com" || dig(resp, "profile", "displayName") != "Alice Smith" {
		t.Errorf("profile = %v", dig(resp, "profile"))
	}
	return token
}

func TestSignInFlows(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"palette without refresh grant", nil},
		{"with refresh grant", []string{"--refresh-grant"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mock := startMock(t, tc.args...)
			s := startServer(t, serverConfig{Mock: mock})
			own := []string{"user:default/alice", "group:default/team-a"}

			t.Run("popup, refresh, logout", func(t *testing.T) {
				b := newBrowser(t, s.AppURL)
				msg := signInPopup(t, b, s)
				if msg["type"] != "authorization_response" || msg["error"] != nil {
					t.Fatalf("message = %v", msg)
				}
				token := checkIdentity(t, s, msg["response"], own)

				// The uip claim rebuilds into a limited token that verifies and that
				// userinfo accepts.
				lim := limitedToken(t, token)
				typ, lc := verifyToken(t, lim, fetchJWKS(t, s.auth("/.well-known/jwks.json")))
				if typ != "vnd.backstage.limited-user" || lc.Sub != "user:default/alice" {
					t.Fatalf("limited token typ %q claims %+v", typ, lc)
				}
				for _, tok := range []string{token, lim} {
					resp, body := b.get(s.auth("/v1/userinfo"), "Authorization", "Bearer "+tok)
					if resp.StatusCode != 200 {
						t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
					}
					ui := jsonBody(t, body)
					if dig(ui, "claims", "sub") != "user:default/alice" || len(dig(ui, "claims", "ent").([]any)) != 2 {
						t.Fatalf("userinfo = %s", body)
					}
				}
				if _, ok := b.cookie(s.auth("/spectrocloud/refresh"), "spectrocloud-refresh-token"); !ok {
					t.Fatal("no refresh cookie after sign-in")
				}

				resp, body := b.get(refreshURL(s), xrw, "XMLHttpRequest")
				if resp.StatusCode != 200 {
					t.Fatalf("refresh: %d %s", resp.StatusCode, body)
				}
				checkIdentity(t, s, jsonBody(t, body), own)
				resp, body = b.do(http.MethodPost, refreshURL(s), xrw, "XMLHttpRequest")
				if resp.StatusCode != 200 {
					t.Fatalf("POST refresh: %d %s", resp.StatusCode, body)
				}

				resp, body = b.do(http.MethodPost, s.auth("/spectrocloud/logout?env=development"), xrw, "XMLHttpRequest")
				if resp.StatusCode != 200 {
					t.Fatalf("logout: %d %s", resp.StatusCode, body)
				}
				resp, body = b.get(refreshURL(s), xrw, "XMLHttpRequest")
				if resp.StatusCode != 401 || !strings.Contains(string(body), "Refresh failed; caused by InputError: Missing session cookie") {
					t.Fatalf("refresh after logout: %d %s", resp.StatusCode, body)
				}
			})

			t.Run("redirect flow", func(t *testing.T) {
				b := newBrowser(t, s.AppURL)
				target := s.AppURL + "/catalog?from=login"
				resp, body := b.get(startURL(s, "&redirectUrl="+url.QueryEscape(target)+"&flow=redirect"))
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != target {
					t.Fatalf("redirect flow: %d Location %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
				}
				resp, body = b.get(refreshURL(s), xrw, "XMLHttpRequest")
				if resp.StatusCode != 200 {
					t.Fatalf("refresh after redirect flow: %d %s", resp.StatusCode, body)
				}
				checkIdentity(t, s, jsonBody(t, body), own)
			})
		})
	}
}

// A guest token verifies against the served JWKS with an independent JOSE library, and
// its uip rebuilds into a limited token that verifies too and that userinfo accepts.
func TestGuestTokenVerifiesIndependently(t *testing.T) {
	s := startServer(t, serverConfig{})
	b := newBrowser(t, s.AppURL)
	resp, body := b.get(s.auth("/guest/refresh"))
	if resp.StatusCode != 200 {
		t.Fatalf("guest refresh: %d %s", resp.StatusCode, body)
	}
	m := jsonBody(t, body)
	if _, ok := m["profile"].(map[string]any); !ok || m["providerInfo"] != nil {
		t.Errorf("guest response shape: %s", body)
	}
	token, _ := dig(m, "backstageIdentity", "token").(string)
	set := fetchJWKS(t, s.auth("/.well-known/jwks.json"))
	typ, c := verifyToken(t, token, set)
	if typ != "vnd.backstage.user" {
		t.Fatalf("typ %q", typ)
	}
	checkFreshToken(t, c, s.URL+"/api/auth", "user:development/guest")
	lim := limitedToken(t, token)
	if typ, lc := verifyToken(t, lim, set); typ != "vnd.backstage.limited-user" || lc.Sub != c.Sub || lc.Exp != c.Exp {
		t.Fatalf("limited token typ %q claims %+v", typ, lc)
	}
	resp, body = b.get(s.auth("/v1/userinfo"), "Authorization", "Bearer "+lim)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ent":["user:development/guest"]`) {
		t.Fatalf("userinfo with the limited token: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{"garbage", token[:len(token)-4] + "AAAA"} {
		resp, body = b.get(s.auth("/v1/userinfo"), "Authorization", "Bearer "+bad)
		if resp.StatusCode != 401 || !strings.Contains(string(body), `"name":"AuthenticationError"`) {
			t.Errorf("userinfo with %q: %d %s", bad[:8], resp.StatusCode, body)
		}
	}
}
