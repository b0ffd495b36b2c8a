package integration

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// assertNoSession fails if the browser holds a refresh cookie or body carries a token.
func assertNoSession(t *testing.T, b *browser, s *server, body []byte) {
	t.Helper()
	if strings.Contains(string(body), "backstageIdentity") || strings.Contains(string(body), `"token"`) {
		t.Errorf("response carries a token:\n%s", body)
	}
	for _, name := range []string{"spectrocloud-refresh-token", "spectrocloud-refresh-token-0"} {
		if _, ok := b.cookie(s.auth("/spectrocloud/refresh"), name); ok {
			t.Errorf("browser holds %s", name)
		}
	}
}

func setRefreshCookie(t *testing.T, b *browser, s *server, value string) {
	t.Helper()
	u, _ := url.Parse(s.auth("/spectrocloud"))
	b.Jar.SetCookies(u, []*http.Cookie{{Name: "spectrocloud-refresh-token", Value: value, Path: "/api/auth/spectrocloud"}})
}

// callbackURL runs start and the IdP's authorize step, stopping before the callback.
func callbackURL(t *testing.T, b *browser, s *server) string {
	t.Helper()
	stop := b.CheckRedirect
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/handler/frame") {
			return http.ErrUseLastResponse
		}
		return stop(req, via)
	}
	defer func() { b.CheckRedirect = stop }()
	resp, body := b.get(startURL(s, "&flow=popup"))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/handler/frame") {
		t.Fatalf("want a redirect to the callback, got %d %q\n%s", resp.StatusCode, loc, body)
	}
	return loc
}

func frameError(t *testing.T, body []byte) string {
	t.Helper()
	msg := popupMessage(t, body)
	if msg["response"] != nil {
		t.Fatalf("frame delivered a response: %v", msg)
	}
	m, _ := dig(msg, "error", "message").(string)
	if m == "" {
		t.Fatalf("frame message has no error: %v", msg)
	}
	return m
}

func TestNegativeCases(t *testing.T) {
	mock := startMock(t, "--refresh-grant")
	s := startServer(t, serverConfig{Mock: mock})
	other := startServer(t, serverConfig{Mock: mock, Secret: "another-secret-another-secret-0000"})

	signedInCookie := func(t *testing.T, srv *server) string {
		b := newBrowser(t, srv.AppURL)
		signInPopup(t, b, srv)
		v, ok := b.cookie(srv.auth("/spectrocloud/refresh"), "spectrocloud-refresh-token")
		if !ok {
			t.Fatal("no refresh cookie")
		}
		return v
	}
	refreshWith := func(t *testing.T, value string) {
		b := newBrowser(t, s.AppURL)
		setRefreshCookie(t, b, s, value)
		resp, body := b.get(refreshURL(s), xrw, "XMLHttpRequest")
		if resp.StatusCode != 401 || !strings.Contains(string(body), "Refresh failed") {
			t.Fatalf("refresh: %d %s", resp.StatusCode, body)
		}
		if strings.Contains(string(body), "backstageIdentity") {
			t.Fatalf("token issued: %s", body)
		}
	}

	t.Run("forged unsigned refresh cookie", func(t *testing.T) {
		enc := base64.RawURLEncoding.EncodeToString
		forged := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
			enc([]byte(fmt.Sprintf(`{"email":"alice@example.com","exp":%d}`, time.Now().Add(time.Hour).Unix()))) + "."
		refreshWith(t, forged)
	})
	t.Run("cookie sealed with another secret", func(t *testing.T) {
		refreshWith(t, signedInCookie(t, other))
	})
	t.Run("flipped byte", func(t *testing.T) {
		v := []byte(signedInCookie(t, s))
		i := len(v) / 2
		if v[i] == 'A' {
			v[i] = 'B'
		} else {
			v[i] = 'A'
		}
		refreshWith(t, string(v))
	})
	t.Run("missing X-Requested-With", func(t *testing.T) {
		b := newBrowser(t, s.AppURL)
		signInPopup(t, b, s)
		resp, body := b.get(refreshURL(s))
		if resp.StatusCode != 401 || !strings.Contains(string(body), "Invalid X-Requested-With header") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})

	for _, fault := range []string{
		"bad_sig=1", "nonce=not-the-nonce-we-sent", "id_token_ttl=-120", "iss=http://evil.example",
		"aud=someone-else", "alg=none", "alg=hs256", "iat_offset=3600",
	} {
		t.Run("id token fault "+fault, func(t *testing.T) {
			mock.next(t, fault)
			b := newBrowser(t, s.AppURL)
			resp, body := b.get(startURL(s, "&flow=popup"))
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			frameError(t, body)
			assertNoSession(t, b, s, body)
		})
	}

	t.Run("IdP error is named, not reflected", func(t *testing.T) {
		mock.next(t, "error=access_denied&error_description="+url.QueryEscape("<script>alert(1)</script>"))
		b := newBrowser(t, s.AppURL)
		_, body := b.get(startURL(s, "&flow=popup"))
		msg := frameError(t, body)
		if !strings.Contains(msg, "access_denied") || strings.Contains(msg, "<script>") {
			t.Fatalf("error message %q", msg)
		}
		assertNoSession(t, b, s, body)
	})

	t.Run("code replay", func(t *testing.T) {
		b := newBrowser(t, s.AppURL)
		cb := callbackURL(t, b, s)
		_, body := b.get(cb)
		popupMessage(t, body) // first use succeeds
		// A second browser holding the same nonce cookie, but no refresh cookie yet.
		b2 := newBrowser(t, s.AppURL)
		jar, _ := cookiejar.New(nil)
		u, _ := url.Parse(cb)
		jar.SetCookies(u, b.Jar.Cookies(u)) // nonce cookie only
		b2.Jar = jar
		_, body = b2.get(cb)
		frameError(t, body)
		assertNoSession(t, b2, s, body)
	})

	t.Run("missing nonce cookie", func(t *testing.T) {
		cb := callbackURL(t, newBrowser(t, s.AppURL), s)
		b := newBrowser(t, s.AppURL)
		_, body := b.get(cb)
		if m := frameError(t, body); m != "Auth response is missing cookie nonce" {
			t.Fatalf("message %q", m)
		}
		assertNoSession(t, b, s, body)
	})

	t.Run("mismatched nonce", func(t *testing.T) {
		b := newBrowser(t, s.AppURL)
		cb := callbackURL(t, b, s)
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Set("state", hex.EncodeToString([]byte("nonce=tampered&env=development&origin="+url.QueryEscape(s.AppURL))))
		u.RawQuery = q.Encode()
		_, body := b.get(u.String())
		if m := frameError(t, body); m != "Invalid nonce" {
			t.Fatalf("message %q", m)
		}
		assertNoSession(t, b, s, body)
	})

	t.Run("state with a disallowed origin", func(t *testing.T) {
		b := newBrowser(t, s.AppURL)
		cb := callbackURL(t, b, s)
		u, _ := url.Parse(cb)
		nonce, _ := b.cookie(cb, "spectrocloud-nonce")
		q := u.Query()
		q.Set("state", hex.EncodeToString([]byte("nonce="+url.QueryEscape(nonce)+"&env=development&origin="+url.QueryEscape("http://evil.example"))))
		u.RawQuery = q.Encode()
		resp, body := b.get(u.String())
		if strings.Contains(string(body), "evil.example") && resp.StatusCode == 200 && strings.Contains(string(body), "backstageIdentity") {
			t.Fatalf("token posted to a disallowed origin:\n%s", body)
		}
		assertNoSession(t, b, s, body)
	})

	t.Run("start with a disallowed origin", func(t *testing.T) {
		b := newBrowser(t, s.AppURL)
		resp, body := b.get(s.auth("/spectrocloud/start?env=development&origin=" + url.QueryEscape("http://evil.example")))
		if resp.StatusCode != 403 || !strings.Contains(string(body), "Origin 'http://evil.example' is not allowed") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})

	for _, payload := range []string{
		"http://evil.example/", "//evil.example/", "/\\evil.example", "http://127.0.0.1:3000@evil.example/",
		"http://evil.example\\@127.0.0.1:3000/", "javascript:alert(1)", "data:text/html,hi",
		"http://127.0.0.1:3000.evil.example/", "HTTP://EVIL.EXAMPLE/", "http://127.0.0.1:3000\t.evil/",
	} {
		t.Run("open redirect "+payload, func(t *testing.T) {
			b := newBrowser(t, s.AppURL)
			resp, body := b.get(startURL(s, "&redirectUrl="+url.QueryEscape(payload)+"&flow=redirect"))
			if resp.StatusCode != 400 && resp.StatusCode != 403 {
				t.Fatalf("%q accepted: %d Location %q %s", payload, resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}

	t.Run("unknown env and provider", func(t *testing.T) {
		b := newBrowser(t, s.AppURL)
		resp, body := b.get(s.auth("/spectrocloud/start?env=production"))
		if resp.StatusCode != 404 || !strings.Contains(string(body), "No configuration available for the 'production' environment of this provider.") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		resp, body = b.get(s.auth("/nope/start?env=development"))
		if resp.StatusCode != 404 || !strings.Contains(string(body), "Unknown auth provider 'nope'") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})

	t.Run("revoked IdP session", func(t *testing.T) {
		b := newBrowser(t, s.AppURL)
		msg := signInPopup(t, b, s)
		if msg["error"] != nil {
			t.Fatalf("sign-in: %v", msg)
		}
		resp, _ := http.Get(mock.URL + "/_mock/revoke?sub=u-alice-0001")
		resp.Body.Close()
		resp, body := b.get(refreshURL(s), xrw, "XMLHttpRequest")
		if resp.StatusCode != 401 || strings.Contains(string(body), "backstageIdentity") {
			t.Fatalf("refresh after revocation: %d %s", resp.StatusCode, body)
		}
	})
}
