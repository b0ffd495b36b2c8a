package authbackend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/cookies"
	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/oauthstate"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func TestStart(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *fakeProvider) {
		p.scopes = providers.ScopeSpec{Required: []string{"openid", "profile", "email"}, Additional: []string{"offline_access"}}
	})
	rec := h.do(req{target: "/api/auth/spectrocloud/start?scope=openid%20groups,email|profile&origin=http://localhost:3000&flow=popup&env=development"})
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("Content-Length") != "0" || rec.Body.Len() != 0 {
		t.Errorf("start must have an empty body, Content-Length 0")
	}
	loc := rec.Header().Get("Location")
	if !strings.HasPrefix(loc, "https://idp.example.com/authorize?") {
		t.Fatalf("Location = %q", loc)
	}
	st := mustDecodeState(t, loc)
	if st.Env != "development" || st.Origin != testAppOrigin || st.Flow != "popup" || st.RedirectURL != "" || st.Scope != "" {
		t.Errorf("state = %+v", st)
	}
	raw, err := base64.StdEncoding.DecodeString(st.Nonce)
	if err != nil || len(raw) != 16 {
		t.Errorf("nonce %q is not base64 of 16 bytes", st.Nonce)
	}
	set, lines := setCookies(rec)
	cookie := set["spectrocloud-nonce"]
	if cookie == "" || strings.Contains(cookie, st.Nonce) || strings.Contains(cookie, url.QueryEscape(st.Nonce)) {
		t.Errorf("nonce cookie %q must not carry the state nonce %q", cookie, st.Nonce)
	}
	var nonceLine string
	for _, l := range lines {
		if strings.HasPrefix(l, "spectrocloud-nonce=") && !strings.Contains(l, "Max-Age=0") {
			nonceLine = l
		}
	}
	for _, attr := range []string{"Max-Age=600", "Path=/api/auth/spectrocloud/handler", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(nonceLine, attr) {
			t.Errorf("nonce cookie %q lacks %s", nonceLine, attr)
		}
	}
	if len(h.prov.starts) != 1 {
		t.Fatalf("Start called %d times", len(h.prov.starts))
	}
	sr := h.prov.starts[0]
	if sr.Scope != "openid groups email profile offline_access" {
		t.Errorf("scope = %q", sr.Scope)
	}
	if sr.CallbackURL != "http://localhost:7007/api/auth/spectrocloud/handler/frame" {
		t.Errorf("callback = %q", sr.CallbackURL)
	}
	if len(sr.Secrets.PKCEVerifier) != 43 || len(sr.Secrets.Nonce) != 43 || sr.Secrets.Nonce == sr.Secrets.PKCEVerifier {
		t.Errorf("secrets = %+v", sr.Secrets)
	}
	// The secrets come from the cookie, bound to the state nonce and the server secret.
	got, err := h.srv.openNonceCookie(testProvider, st.Nonce, cookie)
	if err != nil || got != sr.Secrets {
		t.Errorf("secrets are not the ones the nonce cookie binds: %v", err)
	}
	if _, err := h.srv.openNonceCookie(testProvider, "another-nonce", cookie); err == nil {
		t.Error("the cookie opened for another state nonce")
	}
	if _, err := h.srv.openNonceCookie("oidc", st.Nonce, cookie); err == nil {
		t.Error("the cookie opened for another provider")
	}
	other := newHarness(t, func(o *Options, _ *fakeProvider) { o.Config.Auth.SessionSecret = strings.Repeat("x", 40) })
	if _, err := other.srv.openNonceCookie(testProvider, st.Nonce, cookie); err == nil {
		t.Error("the cookie opened with another server secret")
	}
	// Nothing in the authorize request (which the IdP and the callback URL expose)
	// lets anyone rebuild them: they are not derived from the state nonce.
	if sr.Secrets == h.srv.flowSecrets([]byte(st.Nonce)) {
		t.Error("secrets derived from the state nonce")
	}
}

func TestStartPersistScopes(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *fakeProvider) {
		p.scopes = providers.ScopeSpec{Required: []string{"openid"}, Persist: true}
	})
	rec := h.do(req{target: "/api/auth/spectrocloud/start?scope=repo&env=development", cookies: map[string]string{"spectrocloud-granted-scope": "read%20write"}})
	st := mustDecodeState(t, rec.Header().Get("Location"))
	if st.Scope != "repo read write openid" || h.prov.starts[0].Scope != st.Scope {
		t.Errorf("state scope %q, start scope %q", st.Scope, h.prov.starts[0].Scope)
	}
}

func TestStartProviderErrors(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *fakeProvider) { p.startErr = plainErr("dial tcp 10.0.0.1:443: secret detail") })
	rec := h.do(req{target: "/api/auth/spectrocloud/start?env=development"})
	e := checkError(t, rec, 500, "Error", anyMessage)
	if !regexp.MustCompile(`^An internal error occurred logId=[0-9a-f]{20}$`).MatchString(e.Error.Message) {
		t.Errorf("message = %q", e.Error.Message)
	}
	if strings.Contains(rec.Body.String(), "secret detail") {
		t.Error("internal error leaked")
	}
	logID := strings.TrimPrefix(e.Error.Message, "An internal error occurred logId=")
	if !strings.Contains(h.logs.String(), logID) || !strings.Contains(h.logs.String(), "secret detail") {
		t.Errorf("the real error is not logged under the logId: %s", h.logs.String())
	}
	if _, lines := setCookies(rec); len(lines) != 0 {
		t.Errorf("failed start set cookies: %v", lines)
	}
}

type plainErr string

func (e plainErr) Error() string { return string(e) }

func TestFramePopupSuccess(t *testing.T) {
	h := newHarness(t)
	set, rec := h.signIn(t, "scope=openid%20profile%20email&origin=http://localhost:3000&flow=popup&env=development")
	page := parseFramePage(t, rec)
	if page.origin != testAppOrigin {
		t.Errorf("target origin = %q", page.origin)
	}
	var msg struct {
		Type     string         `json:"type"`
		Response signInResponse `json:"response"`
	}
	if err := json.Unmarshal([]byte(page.raw), &msg); err != nil {
		t.Fatal(err)
	}
	r := msg.Response
	if r.Profile.Email != "alice@example.com" || r.ProviderInfo == nil || r.ProviderInfo.IDToken != "id-token-1" ||
		r.ProviderInfo.Scope != "openid" || r.ProviderInfo.ExpiresInSeconds != 3600 {
		t.Errorf("response = %s", page.raw)
	}
	bi := r.BackstageIdentity
	if bi == nil || bi.Token == "" || bi.Identity.Type != "user" || bi.Identity.UserEntityRef != "user:default/alice" ||
		strings.Join(bi.Identity.OwnershipEntityRefs, ",") != "user:default/alice,group:default/team-a" || bi.ExpiresInSeconds != 3600 {
		t.Errorf("backstageIdentity = %+v", bi)
	}
	// Key order is Backstage's.
	if !regexp.MustCompile(`^\{"type":"authorization_response","response":\{"profile":\{"email":.*\},"providerInfo":\{"idToken":.*"accessToken":.*"scope":.*"expiresInSeconds":3600\},"backstageIdentity":\{"token":.*"identity":\{"type":"user","userEntityRef":.*"ownershipEntityRefs":\[.*\]\},"expiresInSeconds":3600\}\}\}$`).MatchString(page.raw) {
		t.Errorf("message shape/order: %s", page.raw)
	}
	for _, frag := range []string{"postMessage(originInfo, '*')", "postMessage(JSON.parse(authResponse), origin)", "window.close()"} {
		if !strings.Contains(page.script, frag) {
			t.Errorf("script lacks %q", frag)
		}
	}
	sealed := set["spectrocloud-refresh-token"]
	if sealed == "" {
		t.Fatal("no refresh cookie")
	}
	if strings.Contains(sealed, "session-1") || strings.Contains(sealed, base64.StdEncoding.EncodeToString([]byte("session-1"))) {
		t.Error("refresh cookie holds the session in the clear")
	}
	// The provider saw the same derived secrets as at start.
	if h.prov.callbacks[0].Secrets != h.prov.starts[0].Secrets {
		t.Error("callback secrets differ from start secrets")
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
}

func TestFramePOSTFormBody(t *testing.T) {
	h := newHarness(t)
	rec := h.do(req{target: "/api/auth/spectrocloud/start?env=development"})
	st := rec.Header().Get("Location")
	u, _ := url.Parse(st)
	state := u.Query().Get("state")
	jar, _ := setCookies(rec)
	frame := h.do(req{method: "POST", target: "/api/auth/spectrocloud/handler/frame",
		form: url.Values{"code": {"good-code"}, "state": {state}}, cookies: map[string]string{"spectrocloud-nonce": jar["spectrocloud-nonce"]}})
	page := parseFramePage(t, frame)
	if _, ok := page.message["response"]; !ok {
		t.Fatalf("form_post sign-in failed: %s", page.raw)
	}
}

func TestFrameRedirectFlow(t *testing.T) {
	h := newHarness(t)
	set, rec := h.signIn(t, "scope=openid&origin=http://localhost:3000&redirectUrl=http%3A%2F%2Flocalhost%3A3000%2Fcatalog%3Ffrom%3Dlogin&flow=redirect&env=development")
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	const want = "http://localhost:3000/catalog?from=login"
	if loc := rec.Header().Get("Location"); loc != want {
		t.Errorf("Location = %q", loc)
	}
	if body := rec.Body.String(); body != "Found. Redirecting to "+want {
		t.Errorf("body = %q", body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if set["spectrocloud-refresh-token"] == "" {
		t.Error("redirect flow set no refresh cookie")
	}
	if strings.Contains(rec.Body.String(), "token") {
		t.Error("redirect flow leaks a token")
	}
}

func TestFrameRedirectFlowError(t *testing.T) {
	h := newHarness(t, refuseAll)
	_, rec := h.signIn(t, "origin=http://localhost:3000&redirectUrl=http%3A%2F%2Flocalhost%3A3000%2Fafter&flow=redirect&env=development")
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d", rec.Code)
	}
	const want = "http://localhost:3000/?error=Failed+to+sign-in%2C+unable+to+resolve+user+identity.+Please+verify+that+your+catalog+contains+the+expected+User+entities+that+would+match+your+configured+sign-in+resolver."
	if loc := rec.Header().Get("Location"); loc != want {
		t.Errorf("Location = %q\nwant %q", loc, want)
	}
	if _, lines := setCookies(rec); len(lines) != 0 {
		t.Errorf("cookies set on error: %v", lines)
	}
}

// TestFrameRefusesTamperedCallbacks: no token and no refresh cookie for callbacks
// that fail the state, nonce, origin or redirect checks.
func TestFrameRefusesTamperedCallbacks(t *testing.T) {
	good := oauthstate.State{Nonce: "n1", Env: "development", Origin: testAppOrigin}
	with := func(f func(*oauthstate.State)) string {
		s := good
		f(&s)
		return oauthstate.Encode(s)
	}
	cases := []struct {
		name    string
		state   string
		cookie  string
		wantMsg string
		status  int
	}{
		{"missing nonce cookie", oauthstate.Encode(good), "", "Auth response is missing cookie nonce", 200},
		{"cookie for another nonce", oauthstate.Encode(good), sealedNonce + "n2", "Invalid nonce", 200},
		// A leaked callback URL: the attacker copies the state's nonce into the cookie.
		{"state nonce as cookie", oauthstate.Encode(good), "n1", "Invalid nonce", 200},
		{"nonce prefix", oauthstate.Encode(good), "n", "Invalid nonce", 200},
		{"disallowed origin", with(func(s *oauthstate.State) { s.Origin = "https://attacker.example" }), sealedNonce + "n1", "Origin 'https://attacker.example' is not allowed", 200},
		{"open redirect", with(func(s *oauthstate.State) { s.Flow, s.RedirectURL = "redirect", "https://attacker.example/steal" }), sealedNonce + "n1", "Redirect URL is not an allowed origin", 302},
		{"javascript redirect", with(func(s *oauthstate.State) { s.Flow, s.RedirectURL = "redirect", "javascript:alert(1)" }), sealedNonce + "n1", "", 302},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := req{target: "/api/auth/spectrocloud/handler/frame?code=good-code&state=" + tc.state}
			if tc.cookie != "" {
				r.cookies = map[string]string{"spectrocloud-nonce": tc.cookie}
			}
			rec := h.do(r)
			if rec.Code != tc.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			if tc.status == 302 {
				loc := rec.Header().Get("Location")
				if !strings.HasPrefix(loc, "http://localhost:3000/?error=") {
					t.Errorf("redirect error went to %q", loc)
				}
				if tc.wantMsg != "" && !strings.Contains(loc, formEncode(tc.wantMsg)) {
					t.Errorf("Location %q lacks %q", loc, tc.wantMsg)
				}
			} else {
				page := parseFramePage(t, rec)
				if !strings.Contains(page.raw, jsonString(tc.wantMsg)) || page.origin != testAppOrigin {
					t.Errorf("page message %s to %s", page.raw, page.origin)
				}
			}
			if strings.Contains(rec.Body.String(), "backstageIdentity") || h.issuer.count() != 0 {
				t.Error("token issued")
			}
			if _, lines := setCookies(rec); len(lines) != 0 {
				t.Errorf("cookies set: %v", lines)
			}
			if _, calls, _, _ := h.prov.counts(); calls != 0 {
				t.Errorf("provider reached %d times", calls)
			}
		})
	}
}

func TestNoRefreshCookieWhenIssuingFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  harnessOption
	}{
		{"resolver fails", refuseAll},
		{"issuer fails", func(o *Options, _ *fakeProvider) { o.Issuer.(*fakeIssuer).err = plainErr("database is down") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.mod)
			set, rec := h.signIn(t, "env=development")
			page := parseFramePage(t, rec)
			if _, ok := page.message["error"]; !ok {
				t.Errorf("expected an error message: %s", page.raw)
			}
			if len(set) != 0 {
				t.Errorf("cookies set after a failed sign-in: %v", set)
			}
		})
	}
}

func TestNoResolverMeansNoIdentity(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		env := devEnv(o)
		env.Resolver = nil
	})
	_, rec := h.signIn(t, "env=development")
	page := parseFramePage(t, rec)
	if strings.Contains(page.raw, "backstageIdentity") || !strings.Contains(page.raw, `"providerInfo"`) {
		t.Errorf("message = %s", page.raw)
	}
}

func TestRefresh(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *fakeProvider) {
		p.scopes = providers.ScopeSpec{Required: []string{"openid", "profile", "email"}, Persist: true}
	})
	set, _ := h.signIn(t, "env=development")
	sealed := set["spectrocloud-refresh-token"]
	for _, method := range []string{"GET", "POST"} {
		rec := h.do(req{method: method, target: "/api/auth/spectrocloud/refresh?optional&scope=openid%20offline_access&env=development",
			headers: xrw, cookies: map[string]string{"spectrocloud-refresh-token": sealed}})
		if rec.Code != 200 {
			t.Fatalf("%s refresh: %d %s", method, rec.Code, rec.Body.String())
		}
		body := rec.Body.String()
		if !regexp.MustCompile(`^\{"profile":\{.*\},"providerInfo":\{.*\},"backstageIdentity":\{"token":"[^"]+","identity":\{"type":"user","userEntityRef":"user:default/alice","ownershipEntityRefs":\["user:default/alice","group:default/team-a"\]\},"expiresInSeconds":3600\}\}$`).MatchString(body) {
			t.Errorf("body = %s", body)
		}
		var resp signInResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		// Only what was granted at sign-in: offline_access was never consented to, so
		// the frontend must go through /start for it.
		if resp.ProviderInfo.Scope != "openid profile email" {
			t.Errorf("scope = %q", resp.ProviderInfo.Scope)
		}
		if set, _ := setCookies(rec); len(set) != 0 {
			t.Errorf("refresh with an unchanged session wrote cookies: %v", set)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	}
	if len(h.prov.refreshes) != 2 || string(h.prov.refreshes[0].Session) != "session-1" {
		t.Errorf("provider refreshes = %+v", h.prov.refreshes)
	}
	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": sealed}})
	if rec.Code != 200 {
		t.Fatal(rec.Body.String())
	}
}

func TestRefreshResealsNewSession(t *testing.T) {
	h := newHarness(t)
	set, _ := h.signIn(t, "env=development")
	h.prov.refreshNew = []byte("session-2")
	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
	if rec.Code != 200 {
		t.Fatal(rec.Body.String())
	}
	newSet, _ := setCookies(rec)
	next := newSet["spectrocloud-refresh-token"]
	if next == "" || next == set["spectrocloud-refresh-token"] {
		t.Fatalf("refresh cookie not re-set: %v", newSet)
	}
	h.prov.refreshNew = nil
	rec = h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": next}})
	if rec.Code != 200 || string(h.prov.refreshes[len(h.prov.refreshes)-1].Session) != "session-2" {
		t.Errorf("second refresh did not use the new session")
	}
	if _, lines := setCookies(rec); len(lines) != 0 {
		t.Errorf("unchanged session re-set cookies: %v", lines)
	}
}

// TestRefreshRejectsBadCookies: forged, foreign or tampered cookies never reach the
// provider and never yield a token.
func TestRefreshRejectsBadCookies(t *testing.T) {
	h := newHarness(t)
	set, _ := h.signIn(t, "env=development")
	good := set["spectrocloud-refresh-token"]
	otherSecret := cookies.NewSealer([]byte(strings.Repeat("z", 40)), nil)
	plain, _ := json.Marshal(sealedSession{Session: []byte("session-1"), IssuedAt: testNow.Unix()})
	flipped := []byte(good)
	flipped[len(flipped)/2] ^= 0x01
	if flipped[len(flipped)/2] == '.' || flipped[len(flipped)/2] == '%' {
		flipped[len(flipped)/2+1] ^= 0x01
	}
	otherEnv := h.srv.sealer.Seal(plain, "spectrocloud|production|refresh")
	cases := map[string]string{
		"unsigned JWT":         "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiZXhwIjo5OTk5OTk5OTk5fQ.",
		"raw JSON":             url.QueryEscape(string(plain)),
		"other secret":         otherSecret.Seal(plain, "spectrocloud|development|refresh"),
		"flipped byte":         string(flipped),
		"truncated":            good[:len(good)-4],
		"sealed for other env": otherEnv,
	}
	for name, cookie := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(h.prov.refreshes)
			rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
				cookies: map[string]string{"spectrocloud-refresh-token": cookie}})
			checkError(t, rec, 401, "AuthenticationError", "Refresh failed; caused by AuthenticationError: Invalid session cookie, please sign in again")
			if strings.Contains(rec.Body.String(), "token\"") || strings.Contains(rec.Body.String(), "backstageIdentity") {
				t.Error("token in response")
			}
			if len(h.prov.refreshes) != before {
				t.Error("provider reached with an unauthenticated cookie")
			}
		})
	}
}

func TestRefreshSessionLifetime(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		env := devEnv(o)
		env.SessionDuration = 8 * time.Hour
	})
	expired := h.sealedCookie(t, sealedSession{Session: []byte("s"), IssuedAt: testNow.Add(-9 * time.Hour).Unix()})
	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": expired}})
	checkError(t, rec, 401, "AuthenticationError", "Refresh failed; caused by AuthenticationError: Session expired, please sign in again")
	providerExpired := h.sealedCookie(t, sealedSession{Session: []byte("s"), IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(-time.Second).Unix()})
	rec = h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": providerExpired}})
	checkError(t, rec, 401, "AuthenticationError", "Refresh failed; caused by AuthenticationError: Session expired, please sign in again")

	// The sign-in cookie lasts SessionDuration.
	set, rec := h.signIn(t, "env=development")
	_ = set
	for _, l := range rec.Result().Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, "spectrocloud-refresh-token=") && !strings.Contains(l, "Max-Age=0") && !strings.Contains(l, "Max-Age=28800") {
			t.Errorf("refresh cookie %q: want Max-Age=28800", l)
		}
	}
}

func TestRefreshInternalErrorIsWrappedWithoutDetail(t *testing.T) {
	h := newHarness(t)
	set, _ := h.signIn(t, "env=development")
	h.prov.refreshErr = plainErr("connection refused to 10.1.2.3")
	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
	e := checkError(t, rec, 401, "AuthenticationError", anyMessage)
	if !strings.HasPrefix(e.Error.Message, "Refresh failed; caused by Error: An internal error occurred logId=") || strings.Contains(rec.Body.String(), "10.1.2.3") {
		t.Errorf("message = %q", e.Error.Message)
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	set, _ := h.signIn(t, "env=development")
	rec := h.do(req{method: "POST", target: "/api/auth/spectrocloud/logout?env=development", headers: map[string]string{
		"X-Requested-With": "XMLHttpRequest", "Origin": testAppOrigin}, cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("logout: %d %q", rec.Code, rec.Body.String())
	}
	if len(h.prov.logouts) != 1 || string(h.prov.logouts[0]) != "session-1" {
		t.Errorf("provider logout got %q", h.prov.logouts)
	}
	_, lines := setCookies(rec)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "spectrocloud-refresh-token=;") || !strings.Contains(lines[0], "Max-Age=0") ||
		!strings.Contains(lines[0], "Path=/api/auth/spectrocloud;") {
		t.Errorf("Set-Cookie = %q", lines)
	}
}

func TestLogoutClearsChunkedCookies(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *fakeProvider) { p.scopes.Persist = true })
	rec := h.do(req{method: "POST", target: "/api/auth/spectrocloud/logout?env=development", headers: xrw, cookies: map[string]string{
		"spectrocloud-refresh-token-0": "aaa", "spectrocloud-refresh-token-1": "bbb", "spectrocloud-granted-scope": "openid"}})
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	_, lines := setCookies(rec)
	for _, name := range []string{"spectrocloud-refresh-token-0", "spectrocloud-refresh-token-1", "spectrocloud-granted-scope"} {
		found := false
		for _, l := range lines {
			found = found || (strings.HasPrefix(l, name+"=;") && strings.Contains(l, "Max-Age=0"))
		}
		if !found {
			t.Errorf("%s not cleared: %q", name, lines)
		}
	}
	if len(h.prov.logouts) != 0 {
		t.Error("provider logout called with an unauthenticated cookie")
	}
}

func TestLogoutURL(t *testing.T) {
	for _, tc := range []struct {
		url, body string
	}{
		{"https://idp.example.com/logout", `{"logoutUrl":"https://idp.example.com/logout"}`},
		{"http://localhost:9000/logout", `{"logoutUrl":"http://localhost:9000/logout"}`},
		{"http://idp.example.com/logout", ``},
		{"javascript:alert(1)", ``},
	} {
		h := newHarness(t, func(_ *Options, p *fakeProvider) { p.logoutURL = tc.url })
		set, _ := h.signIn(t, "env=development")
		rec := h.do(req{method: "POST", target: "/api/auth/spectrocloud/logout?env=development", headers: xrw,
			cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
		if rec.Code != 200 || rec.Body.String() != tc.body {
			t.Errorf("%s: %d %q", tc.url, rec.Code, rec.Body.String())
		}
	}
	// Without a session cookie the logout URL is still asked for (as Backstage does),
	// with the request's allowed Origin for the IdP's return address.
	h := newHarness(t, func(_ *Options, p *fakeProvider) { p.logoutURL = "https://idp.example.com/logout" })
	hdr := map[string]string{"X-Requested-With": "XMLHttpRequest", "Origin": "http://localhost:3000"}
	rec := h.do(req{method: "POST", target: "/api/auth/spectrocloud/logout?env=development", headers: hdr})
	if rec.Code != 200 || rec.Body.String() != `{"logoutUrl":"https://idp.example.com/logout"}` ||
		len(h.prov.logoutAsked) != 1 || h.prov.logoutAsked[0] != [2]string{"", "http://localhost:3000"} {
		t.Errorf("logout without a session: %d %q, asked %q", rec.Code, rec.Body.String(), h.prov.logoutAsked)
	}
	// A failing IdP logout still signs out locally.
	h = newHarness(t, func(_ *Options, p *fakeProvider) { p.logoutErr = plainErr("revocation failed") })
	set, _ := h.signIn(t, "env=development")
	rec = h.do(req{method: "POST", target: "/api/auth/spectrocloud/logout?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
	if _, lines := setCookies(rec); rec.Code != 200 || len(lines) == 0 {
		t.Errorf("logout with IdP failure: %d %v", rec.Code, lines)
	}
}

func TestSameSiteNoneAcrossHostsOverHTTPS(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.App.BaseURL = "https://backstage.example.com"
		o.Config.Backend.BaseURL = "https://auth.example.net"
	})
	rec := h.do(req{target: "/api/auth/spectrocloud/start?env=development&origin=https://backstage.example.com"})
	_, lines := setCookies(rec)
	var nonce string
	for _, l := range lines {
		if strings.HasPrefix(l, "spectrocloud-nonce=") && !strings.Contains(l, "Max-Age=0") {
			nonce = l
		}
	}
	if !strings.Contains(nonce, "SameSite=None") || !strings.Contains(nonce, "Secure") {
		t.Errorf("nonce cookie %q: want SameSite=None; Secure", nonce)
	}
	// Same host over https: Lax.
	h = newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.App.BaseURL = "https://auth.example.net"
		o.Config.Backend.BaseURL = "https://auth.example.net"
	})
	rec = h.do(req{target: "/api/auth/spectrocloud/start?env=development"})
	if _, lines := setCookies(rec); !strings.Contains(strings.Join(lines, "\n"), "SameSite=Lax") {
		t.Errorf("same-host cookies: %q", lines)
	}
}

func TestGuest(t *testing.T) {
	cases := []struct {
		name    string
		dev     bool
		guest   map[string]any
		catalog resolvers.Catalog
		status  int
		ref     string
		ent     string
	}{
		{name: "development mode", dev: true, status: 200, ref: "user:development/guest", ent: "user:development/guest"},
		{name: "flag outside development", guest: map[string]any{"dangerouslyAllowOutsideDevelopment": true}, status: 200, ref: "user:development/guest", ent: "user:development/guest"},
		{name: "refused", status: 403},
		{name: "configured ownership", dev: true, guest: map[string]any{"userEntityRef": "user:default/dev", "ownershipEntityRefs": []any{"user:default/dev", "group:default/devs"}},
			status: 200, ref: "user:default/dev", ent: "user:default/dev,group:default/devs"},
		{name: "catalog user", dev: true, guest: map[string]any{"userEntityRef": "guest"},
			catalog: fakeCatalog{users: map[string]resolvers.Entity{"user:default/guest": {Kind: "User", Metadata: resolvers.EntityMetadata{Name: "guest"},
				Relations: []resolvers.Relation{{Type: "memberOf", TargetRef: "group:default/guests"}}}}},
			status: 200, ref: "user:default/guest", ent: "user:default/guest,group:default/guests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.guest
			if g == nil {
				g = map[string]any{}
			}
			h := newHarness(t, withGuest(t, tc.dev, g, tc.catalog))
			rec := h.do(req{method: "POST", target: "/api/auth/guest/refresh"})
			if rec.Code != tc.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			if tc.status != 200 {
				return
			}
			re := regexp.MustCompile(`^\{"profile":\{\},"backstageIdentity":\{"token":"[^"]+","identity":\{"type":"user","userEntityRef":"([^"]+)","ownershipEntityRefs":\[([^\]]*)\]\},"expiresInSeconds":3600\}\}$`)
			m := re.FindStringSubmatch(rec.Body.String())
			if m == nil {
				t.Fatalf("body = %s", rec.Body.String())
			}
			if m[1] != tc.ref || strings.ReplaceAll(m[2], `"`, "") != tc.ent {
				t.Errorf("identity %s [%s], want %s [%s]", m[1], m[2], tc.ref, tc.ent)
			}
		})
	}
	h := newHarness(t, withGuest(t, true, map[string]any{}, nil))
	checkError(t, h.do(req{target: "/api/auth/guest/start?env=development"}), 501, "NotImplementedError", "Not implemented")
	checkError(t, h.do(req{target: "/api/auth/guest/handler/frame"}), 501, "NotImplementedError", "Not implemented")
	checkError(t, h.do(req{method: "POST", target: "/api/auth/guest/logout", headers: xrw}), 404, "NotFoundError", "Unknown auth provider 'guest'")
}

// A callback URL works once: the successful callback deletes the nonce cookie, so the
// same URL replayed (with the cookie the browser now holds, i.e. none, or with the old
// cookie copied from elsewhere together with a code the IdP already redeemed) cannot
// sign anyone in again; and a leaked URL cannot be redeemed from another browser (the
// "state nonce as cookie" case of TestFrameRefusesTamperedCallbacks).
func TestCallbackDeletesNonceCookie(t *testing.T) {
	h := newHarness(t)
	_, frame := h.signIn(t, "env=development&origin="+url.QueryEscape(testAppOrigin))
	if frame.Code != http.StatusOK {
		t.Fatalf("frame: %d", frame.Code)
	}
	_, lines := setCookies(frame)
	deleted := false
	for _, l := range lines {
		if strings.HasPrefix(l, "spectrocloud-nonce=;") && strings.Contains(l, "Path=/api/auth/spectrocloud/handler") &&
			(strings.Contains(l, "Max-Age=0") || strings.Contains(l, "Expires=Thu, 01 Jan 1970")) {
			deleted = true
		}
	}
	if !deleted {
		t.Errorf("the nonce cookie is not deleted after a successful callback: %q", lines)
	}
	// A failed callback leaves it (the user may retry the same sign-in).
	st := oauthstate.State{Nonce: "n1", Env: "development", Origin: testAppOrigin}
	rec := h.do(req{target: "/api/auth/spectrocloud/handler/frame?code=bad&state=" + oauthstate.Encode(st),
		cookies: map[string]string{"spectrocloud-nonce": sealedNonce + "n1"}})
	if _, lines := setCookies(rec); len(lines) != 0 {
		t.Errorf("cookies changed by a failed callback: %q", lines)
	}
}

// An error with internal detail (a remote catalog's address and dial error) reaches the
// user as its generic message with a logId; the log has the detail under that id.
func TestErrorDetailIsLoggedNotShown(t *testing.T) {
	catalogDown := &backstageerr.Error{Name: backstageerr.NameServiceUnavailable,
		Message: "Catalog lookup failed: the catalog could not be reached",
		Detail:  "Catalog lookup at http://10.9.8.7:7007/api/catalog/entities failed: dial tcp 10.9.8.7:7007: connection refused"}
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		devEnv(o).Resolver = resolverFunc(func(context.Context, resolvers.SignInInfo) (resolvers.Identity, error) {
			return resolvers.Identity{}, catalogDown
		})
	})
	_, frame := h.signIn(t, "env=development")
	page := parseFramePage(t, frame)
	m := regexp.MustCompile(`"message":"Catalog lookup failed: the catalog could not be reached logId=([0-9a-f]{20})"`).FindStringSubmatch(page.raw)
	if m == nil || strings.Contains(frame.Body.String(), "10.9.8.7") {
		t.Fatalf("frame message = %s", page.raw)
	}
	if !strings.Contains(h.logs.String(), "logId="+m[1]) || !strings.Contains(h.logs.String(), "dial tcp 10.9.8.7:7007") {
		t.Errorf("the detail is not logged under the logId: %s", h.logs.String())
	}
	// Refresh: wrapped as Backstage wraps, still without the detail.
	h2 := newHarness(t)
	set, _ := h2.signIn(t, "env=development")
	h2.prov.refreshErr = catalogDown
	rec := h2.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
		cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
	e := checkError(t, rec, 401, "AuthenticationError", anyMessage)
	if !strings.HasPrefix(e.Error.Message, "Refresh failed; caused by ServiceUnavailableError: Catalog lookup failed: the catalog could not be reached logId=") || strings.Contains(rec.Body.String(), "10.9.8.7") {
		t.Errorf("refresh message = %q", e.Error.Message)
	}
}
