package authbackend

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/authbackend/oauthstate"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/guest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// TestReferenceErrorCases covers every row of REFERENCE.md section 6 that answers
// with error JSON: status, name, message and the plugin-relative request.url.
func TestReferenceErrorCases(t *testing.T) {
	const sf = "/api/auth/spectrocloud"
	cases := []struct {
		name    string
		r       req
		setup   func(*fakeProvider)
		status  int
		errName string
		message string
		url     string
		cause   string // "Name: message" of error.cause, if any
	}{
		{name: "refresh without X-Requested-With", r: req{target: sf + "/refresh?env=development"},
			status: 401, errName: "AuthenticationError", message: "Invalid X-Requested-With header", url: "/spectrocloud/refresh?env=development"},
		{name: "refresh with wrong X-Requested-With", r: req{target: sf + "/refresh?env=development", headers: map[string]string{"X-Requested-With": "xmlhttprequest"}},
			status: 401, errName: "AuthenticationError", message: "Invalid X-Requested-With header", url: "/spectrocloud/refresh?env=development"},
		{name: "logout without X-Requested-With", r: req{method: "POST", target: sf + "/logout?env=development"},
			status: 401, errName: "AuthenticationError", message: "Invalid X-Requested-With header", url: "/spectrocloud/logout?env=development"},
		{name: "refresh without cookie", r: req{target: sf + "/refresh?env=development", headers: xrw},
			status: 401, errName: "AuthenticationError", message: "Refresh failed; caused by InputError: Missing session cookie",
			url: "/spectrocloud/refresh?env=development", cause: "InputError: Missing session cookie"},
		{name: "refresh wrong env", r: req{target: sf + "/refresh?env=production", headers: xrw},
			status: 404, errName: "NotFoundError", message: "No configuration available for the 'production' environment of this provider.", url: "/spectrocloud/refresh?env=production"},
		{name: "start wrong env", r: req{target: sf + "/start?env=staging"},
			status: 404, errName: "NotFoundError", message: "No configuration available for the 'staging' environment of this provider.", url: "/spectrocloud/start?env=staging"},
		{name: "refresh no env", r: req{target: sf + "/refresh", headers: xrw},
			status: 400, errName: "InputError", message: "Must specify 'env' query to select environment", url: "/spectrocloud/refresh"},
		{name: "refresh no env and no XRW (env is checked first)", r: req{target: sf + "/refresh"},
			status: 400, errName: "InputError", message: "Must specify 'env' query to select environment", url: "/spectrocloud/refresh"},
		{name: "start no env", r: req{target: sf + "/start"},
			status: 400, errName: "InputError", message: "Must specify 'env' query to select environment", url: "/spectrocloud/start"},
		{name: "frame without state", r: req{target: sf + "/handler/frame?code=abc"},
			status: 400, errName: "InputError", message: "Must specify 'env' query to select environment", url: "/spectrocloud/handler/frame?code=abc"},
		{name: "unknown provider start", r: req{target: "/api/auth/nope/start?env=development"},
			status: 404, errName: "NotFoundError", message: "Unknown auth provider 'nope'", url: "/nope/start?env=development"},
		{name: "unknown provider refresh", r: req{target: "/api/auth/nope/refresh?env=development", headers: xrw},
			status: 404, errName: "NotFoundError", message: "Unknown auth provider 'nope'", url: "/nope/refresh?env=development"},
		{name: "advertised authorize endpoint", r: req{target: "/api/auth/v1/authorize?client_id=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A17007%2Fcb&response_type=code"},
			status: 404, errName: "NotFoundError", message: "Unknown auth provider 'v1'", url: "/v1/authorize?client_id=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A17007%2Fcb&response_type=code"},
		{name: "advertised token endpoint", r: req{method: "POST", target: "/api/auth/v1/token", form: url.Values{"grant_type": {"authorization_code"}}},
			status: 404, errName: "NotFoundError", message: "Unknown auth provider 'v1'", url: "/v1/token"},
		{name: "provider root", r: req{target: sf + "/"},
			status: 404, errName: "NotFoundError", message: "Unknown auth provider 'spectrocloud'", url: "/spectrocloud/"},
		{name: "unknown route under provider", r: req{method: "DELETE", target: sf + "/start?env=development"},
			status: 404, errName: "NotFoundError", message: "Unknown auth provider 'spectrocloud'", url: "/spectrocloud/start?env=development"},
		{name: "start disallowed origin", r: req{target: sf + "/start?env=development&origin=http://127.0.0.1:17099"},
			status: 403, errName: "NotAllowedError", message: "Origin 'http://127.0.0.1:17099' is not allowed", url: "/spectrocloud/start?env=development&origin=http://127.0.0.1:17099"},
		{name: "start unparsable origin", r: req{target: sf + "/start?env=development&origin=not%20a%20url"},
			status: 400, errName: "InputError", message: "App origin is invalid, failed to parse", url: "/spectrocloud/start?env=development&origin=not%20a%20url"},
		{name: "start redirect without redirectUrl", r: req{target: sf + "/start?env=development&flow=redirect"},
			status: 400, errName: "InputError", message: "No redirectUrl provided in request query parameters", url: "/spectrocloud/start?env=development&flow=redirect"},
		{name: "start redirect disallowed redirectUrl", r: req{target: sf + "/start?env=development&flow=redirect&redirectUrl=http%3A%2F%2F127.0.0.1%3A17099%2F"},
			status: 403, errName: "NotAllowedError", message: "Redirect URL is not an allowed origin", url: "/spectrocloud/start?env=development&flow=redirect&redirectUrl=http%3A%2F%2F127.0.0.1%3A17099%2F"},
		{name: "frame garbage state", r: req{target: sf + "/handler/frame?code=abc&state=zzzz"},
			status: 403, errName: "NotAllowedError", message: "OAuth state is invalid, missing env", url: "/spectrocloud/handler/frame?code=abc&state=zzzz"},
		{name: "refresh with expired provider session",
			r:      req{target: sf + "/refresh?env=development", headers: xrw, cookies: map[string]string{"spectrocloud-refresh-token": "SEALED"}},
			setup:  func(p *fakeProvider) { p.refreshErr = backstageerr.Plain("Token has expired, please sign in again") },
			status: 401, errName: "AuthenticationError", message: "Refresh failed; caused by Error: Token has expired, please sign in again",
			url: "/spectrocloud/refresh?env=development", cause: "Error: Token has expired, please sign in again"},
		{name: "logout disallowed origin", r: req{method: "POST", target: sf + "/logout?env=development", headers: map[string]string{"X-Requested-With": "XMLHttpRequest", "Origin": "http://127.0.0.1:17099"}},
			status: 403, errName: "NotAllowedError", message: "Origin 'http://127.0.0.1:17099' is not allowed", url: "/spectrocloud/logout?env=development"},
		{name: "userinfo no token", r: req{target: "/api/auth/v1/userinfo"},
			status: 401, errName: "AuthenticationError", message: "No token provided", url: "/v1/userinfo"},
		{name: "userinfo garbage token", r: req{target: "/api/auth/v1/userinfo", headers: map[string]string{"Authorization": "Bearer not.a.jwt"}},
			status: 401, errName: "AuthenticationError", message: "Illegal token", url: "/v1/userinfo"},
		{name: "userinfo static service token", r: req{target: "/api/auth/v1/userinfo", headers: map[string]string{"Authorization": "Bearer " + testStaticToken}},
			status: 400, errName: "InputError", message: "Userinfo endpoint must be called with a token that represents a user principal", url: "/v1/userinfo"},
		{name: "oidc registered but not configured", r: req{target: "/api/auth/oidc/start?env=development"},
			status: 404, errName: "NotFoundError", message: "No auth provider registered for 'oidc'", url: "/oidc/start?env=development"},
		{name: "guest registered but not configured", r: req{target: "/api/auth/guest/refresh"},
			status: 404, errName: "NotFoundError", message: "No auth provider registered for 'guest'", url: "/guest/refresh"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.setup != nil {
				tc.setup(h.prov)
			}
			if v, ok := tc.r.cookies["spectrocloud-refresh-token"]; ok && v == "SEALED" {
				tc.r.cookies = map[string]string{"spectrocloud-refresh-token": h.sealedCookie(t, sealedSession{Session: []byte("s"), IssuedAt: testNow.Unix()})}
			}
			rec := h.do(tc.r)
			e := checkError(t, rec, tc.status, tc.errName, tc.message)
			if e.Request.URL != tc.url {
				t.Errorf("request.url = %q, want %q", e.Request.URL, tc.url)
			}
			wantMethod := tc.r.method
			if wantMethod == "" {
				wantMethod = "GET"
			}
			if e.Request.Method != wantMethod {
				t.Errorf("request.method = %q", e.Request.Method)
			}
			switch {
			case tc.cause == "" && e.Error.Cause != nil:
				t.Errorf("unexpected cause %+v", *e.Error.Cause)
			case tc.cause != "" && (e.Error.Cause == nil || e.Error.Cause.Name+": "+e.Error.Cause.Message != tc.cause):
				t.Errorf("cause = %+v, want %s", e.Error.Cause, tc.cause)
			}
			if e.Error.Stack != "" {
				t.Errorf("stack leaked outside development mode: %q", e.Error.Stack)
			}
			if strings.Contains(rec.Body.String(), "backstageIdentity") {
				t.Errorf("error response carries an identity")
			}
		})
	}
}

// TestReferenceExactBodies compares whole error bodies with the captures' bytes.
func TestReferenceExactBodies(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		r    req
		body string
	}{
		{req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw},
			`{"error":{"name":"AuthenticationError","message":"Refresh failed; caused by InputError: Missing session cookie","cause":{"name":"InputError","message":"Missing session cookie"}},"request":{"method":"GET","url":"/spectrocloud/refresh?env=development"},"response":{"statusCode":401}}`},
		{req{target: "/api/auth/v1/userinfo"},
			`{"error":{"name":"AuthenticationError","message":"No token provided"},"request":{"method":"GET","url":"/v1/userinfo"},"response":{"statusCode":401}}`},
		{req{target: "/api/auth/nope/start?env=development"},
			`{"error":{"name":"NotFoundError","message":"Unknown auth provider 'nope'"},"request":{"method":"GET","url":"/nope/start?env=development"},"response":{"statusCode":404}}`},
	}
	for _, tc := range cases {
		rec := h.do(tc.r)
		if got := rec.Body.String(); got != tc.body {
			t.Errorf("%s:\n got %s\nwant %s", tc.r.target, got, tc.body)
		}
		if cl := rec.Header().Get("Content-Length"); cl != itoa(len(tc.body)) {
			t.Errorf("Content-Length = %s", cl)
		}
	}
}

// TestReferenceFrameErrors covers the rows answered with the popup page.
func TestReferenceFrameErrors(t *testing.T) {
	stateFor := func(nonce string) string {
		return oauthstate.Encode(oauthstate.State{Nonce: nonce, Env: "development", Origin: testAppOrigin})
	}
	const sf = "/api/auth/spectrocloud/handler/frame"
	cases := []struct {
		name       string
		r          req
		resolver   bool // use a resolver that refuses alice
		errName    string
		message    string
		wantCalled bool // provider.Authenticate reached
	}{
		{name: "no nonce cookie", r: req{target: sf + "?code=abc&state=" + stateFor("AAAA")},
			errName: "NotAllowedError", message: "Auth response is missing cookie nonce"},
		{name: "nonce mismatch", r: req{target: sf + "?code=abc&state=" + stateFor("tampered"), cookies: map[string]string{"spectrocloud-nonce": "go9shfmGxQXK7WY1qvjjXg%3D%3D"}},
			errName: "NotAllowedError", message: "Invalid nonce"},
		{name: "missing code", r: req{target: sf + "?state=" + stateFor("n1"), cookies: map[string]string{"spectrocloud-nonce": sealedNonce + "n1"}},
			errName: "Error", message: "No code received from SpectroCloud", wantCalled: true},
		{name: "idp error param", r: req{target: sf + "?error=access_denied&state=" + stateFor("n1"), cookies: map[string]string{"spectrocloud-nonce": sealedNonce + "n1"}},
			errName: "Error", message: "No code received from SpectroCloud", wantCalled: true},
		{name: "user not in catalog", r: req{target: sf + "?code=good-code&state=" + stateFor("n1"), cookies: map[string]string{"spectrocloud-nonce": sealedNonce + "n1"}},
			resolver: true, errName: "Error", wantCalled: true,
			message: "Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver."},
		{name: "disallowed state origin", r: req{target: sf + "?code=good-code&state=" +
			oauthstate.Encode(oauthstate.State{Nonce: "n1", Env: "development", Origin: "https://evil.example"}), cookies: map[string]string{"spectrocloud-nonce": sealedNonce + "n1"}},
			errName: "NotAllowedError", message: "Origin 'https://evil.example' is not allowed"},
		{name: "state env given in query but state invalid", r: req{target: sf + "?env=development&code=good-code&state=zz", cookies: map[string]string{"spectrocloud-nonce": sealedNonce + "n1"}},
			errName: "NotAllowedError", message: "OAuth state is invalid, missing env"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mods []harnessOption
			if tc.resolver {
				mods = append(mods, refuseAll)
			}
			h := newHarness(t, mods...)
			rec := h.do(tc.r)
			page := parseFramePage(t, rec)
			wantRaw := `{"type":"authorization_response","error":{"name":"` + tc.errName + `","message":` + jsonString(tc.message) + `}}`
			if page.raw != wantRaw {
				t.Errorf("message = %s\nwant %s", page.raw, wantRaw)
			}
			if page.origin != testAppOrigin {
				t.Errorf("target origin = %q, want the app origin", page.origin)
			}
			if set, lines := setCookies(rec); len(lines) != 0 {
				t.Errorf("error page sets cookies: %v %v", set, lines)
			}
			_, calls, _, _ := h.prov.counts()
			if (calls > 0) != tc.wantCalled {
				t.Errorf("Authenticate called %d times, want called=%v", calls, tc.wantCalled)
			}
			if h.issuer.count() != 0 {
				t.Errorf("a token was issued")
			}
		})
	}
}

func refuseAll(o *Options, _ *fakeProvider) {
	env := devEnv(o)
	env.Resolver = resolverFunc(func(context.Context, resolvers.SignInInfo) (resolvers.Identity, error) {
		return resolvers.Identity{}, backstageerr.Plain("Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver.")
	})
}

// TestFrameErrorPageMatchesCapture rebuilds capture 49's page byte for byte.
func TestFrameErrorPageMatchesCapture(t *testing.T) {
	want := readTestdata(t, "handler-frame-state-no-nonce-cookie.html")
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.App.BaseURL = "http://127.0.0.1:17007"
	})
	st := "6e6f6e63653d4141414126656e763d646576656c6f706d656e74266f726967696e3d687474702533412532462532463132372e302e302e312533413137303037"
	rec := h.do(req{target: "/api/auth/spectrocloud/handler/frame?code=abc&state=" + st})
	if got := rec.Body.String(); got != want {
		t.Errorf("page differs from capture:\n got %q\nwant %q", got, want)
	}
	if got := rec.Header().Get("Content-Security-Policy"); got != "script-src 'sha256-pLCjHRv7C80LvIxRC+wPhoSS7x4rJxwdHZivcIuu6XE='" {
		t.Errorf("CSP = %q", got)
	}
}

// TestGuestRefusedOutsideDevelopment is the last row of section 6.
func TestGuestRefusedOutsideDevelopment(t *testing.T) {
	h := newHarness(t, withGuest(t, false, map[string]any{}, nil))
	rec := h.do(req{target: "/api/auth/guest/refresh?env=development", headers: xrw})
	checkError(t, rec, http.StatusForbidden, "NotAllowedError", guest.NotAllowedMessage)
	if h.issuer.count() != 0 {
		t.Error("token issued")
	}
}
