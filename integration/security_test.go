package integration

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startFailing runs the server with a config expected to be refused at start-up and
// returns its combined output.
func startFailing(t *testing.T, c serverConfig, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	if c.Port == 0 {
		c.Port = freePort(t)
	}
	if c.AppURL == "" {
		c.AppURL = "http://127.0.0.1:3000"
	}
	cfg := writeConfig(t, dir, c)
	cmd := exec.Command(filepath.Join(binDir, "authbackend"), "--config", cfg)
	cmd.Env = append(append(os.Environ(), "NODE_ENV=production"), env...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the server started (or hung) with a config it must refuse")
	}
	if err == nil {
		t.Fatalf("the server exited 0 with a config it must refuse:\n%s", out)
	}
	return string(out)
}

// TestSecurityFindings has one row per finding of the security review: each asserts no
// token, no refresh cookie and the expected status or message, against the real
// binary and the mock IdP.
func TestSecurityFindings(t *testing.T) {
	mock := startMock(t)
	s := startServer(t, serverConfig{Mock: mock})

	t.Run("1 leaked callback URL redeemed from another browser", func(t *testing.T) {
		victim := newBrowser(t, s.AppURL)
		cb := callbackURL(t, victim, s)
		u, _ := url.Parse(cb)
		raw, err := hex.DecodeString(u.Query().Get("state"))
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(string(raw))
		// The attacker knows everything the URL carries, and sets the nonce cookie the
		// old scheme compared with the state.
		attacker := newBrowser(t, s.AppURL)
		attacker.Jar.SetCookies(u, []*http.Cookie{{Name: "spectrocloud-nonce", Value: url.QueryEscape(q.Get("nonce")), Path: "/api/auth/spectrocloud/handler"}})
		_, body := attacker.get(cb)
		if m := frameError(t, body); m != "Invalid nonce" {
			t.Fatalf("message %q", m)
		}
		assertNoSession(t, attacker, s, body)
		// The victim's own browser still completes it, once.
		_, body = victim.get(cb)
		if msg := popupMessage(t, body); msg["error"] != nil {
			t.Fatalf("victim's sign-in failed: %v", msg)
		}
		_, body = victim.get(cb)
		if m := frameError(t, body); m != "Auth response is missing cookie nonce" {
			t.Fatalf("replay in the same browser: %q", m)
		}
	})

	t.Run("2 a bare * in experimentalExtraAllowedOrigins allows no origin", func(t *testing.T) {
		rs := startServer(t, serverConfig{Mock: mock, Auth: "  experimentalExtraAllowedOrigins: ['*']\n"})
		b := newBrowser(t, rs.AppURL)
		resp, body := b.get(rs.auth("/spectrocloud/start?env=development&flow=popup&origin=" + url.QueryEscape("https://evil.example")))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Origin 'https://evil.example' is not allowed") {
			t.Fatalf("start from evil.example: %d %s", resp.StatusCode, body)
		}
		assertNoSession(t, b, rs, body)
		out := startFailing(t, serverConfig{Mock: mock, Auth: "  experimentalExtraAllowedOrigins: ['https://app.example.com', 'https://*']\n"})
		if !strings.Contains(out, "auth.experimentalExtraAllowedOrigins[1]") || !strings.Contains(out, "would allow every origin") {
			t.Fatalf("an every-origin pattern did not stop start-up naming the key:\n%s", out)
		}
	})

	t.Run("3 a plus address is another identity", func(t *testing.T) {
		mock.next(t, "email=alice%2Bmallory@example.com&email_verified=true&sub=u-mallory-0001")
		b := newBrowser(t, s.AppURL)
		_, body := b.get(startURL(s, "&flow=popup"))
		if m := frameError(t, body); !strings.HasPrefix(m, "Failed to sign-in, unable to resolve user identity.") {
			t.Fatalf("message %q", m)
		}
		assertNoSession(t, b, s, body)
	})

	t.Run("4 a misspelled resolver option stops start-up", func(t *testing.T) {
		out := startFailing(t, serverConfig{Mock: mock, Resolvers: "- resolver: emailLocalPartMatchingUserEntityName\n              allowedDomain: [example.com]"})
		if !strings.Contains(out, "auth.providers.spectrocloud.development.signIn.resolvers[0].allowedDomain: unknown key") {
			t.Fatalf("output does not name the key:\n%s", out)
		}
	})

	t.Run("6 a catalog outage shows no internal address", func(t *testing.T) {
		down := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)) // nothing listens there
		rs := startServer(t, serverConfig{Mock: mock, Extra: "discovery:\n  endpoints:\n    - target: " + down + "/api/{{pluginId}}\n      plugins: [catalog]\nauthbackend:\n  catalog: {mode: remote, token: static-catalog-token-0123456789}\n"})
		b := newBrowser(t, rs.AppURL)
		_, body := b.get(startURL(rs, "&flow=popup"))
		m := frameError(t, body)
		if !regexp.MustCompile(`^Catalog lookup failed: the catalog could not be reached logId=[0-9a-f]{20}$`).MatchString(m) {
			t.Fatalf("message %q", m)
		}
		if strings.Contains(string(body), strings.TrimPrefix(down, "http://")) || strings.Contains(string(body), "refused") {
			t.Fatalf("the page names the catalog's address or the dial error:\n%s", body)
		}
		assertNoSession(t, b, rs, body)
		logID := m[strings.LastIndex(m, "=")+1:]
		// The log line reaches us through a pipe: give it a moment.
		var out string
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if out = rs.proc.out.String(); strings.Contains(out, logID) {
				break
			}
		}
		if !regexp.MustCompile(`logId":"` + logID + `".*"detail":"[^"]*` + regexp.QuoteMeta(strings.TrimPrefix(down, "http://"))).MatchString(out) {
			t.Errorf("the log lacks the detail under logId %s:\n%s", logID, out)
		}
	})

	t.Run("7 a weak or published session secret stops start-up", func(t *testing.T) {
		for secret, want := range map[string]string{
			"short-secret": "auth.session.secret: is only 12 bytes",
			"demo-session-secret-change-me-0123456789": "auth.session.secret: is a secret published in this project's examples",
		} {
			out := startFailing(t, serverConfig{Mock: mock, Secret: secret})
			if !strings.Contains(out, want) || !strings.Contains(out, "openssl rand -base64 32") {
				t.Errorf("secret %q: output lacks %q:\n%s", secret, want, out)
			}
		}
	})

	t.Run("rate limit on the sign-in routes", func(t *testing.T) {
		rs := startServer(t, serverConfig{Mock: mock, Extra: "authbackend:\n  rateLimit: {incomingRequestLimit: 2, ipAllowList: []}\n"})
		b := newBrowser(t, rs.AppURL)
		var resp *http.Response
		var body []byte
		for i := 0; i < 3; i++ {
			resp, body = b.get(refreshURL(rs), xrw, "XMLHttpRequest")
		}
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(string(body), "Too many requests, please try again later") {
			t.Fatalf("third refresh: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		assertNoSession(t, b, rs, body)
	})
}
