package oauth2engine_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
)

const (
	callback = "http://127.0.0.1:7007/api/auth/p/handler/frame"
	canary   = "upstream-body-canary"
	verifier = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
)

// fakeIdP answers /token and /profile with replaceable handlers and records what the
// engine sent.
type fakeIdP struct {
	*httptest.Server
	mu      sync.Mutex
	token   http.HandlerFunc
	profile http.HandlerFunc
	bodies  []string
	headers []http.Header
}

func newFakeIdP(t *testing.T) *fakeIdP {
	f := &fakeIdP{}
	f.token = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-1","token_type":"bearer","scope":"read write","expires_in":3600,"refresh_token":"rt-1"}`)
	}
	f.profile = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" && r.Header.Get("Authorization") != "Bearer at-2" {
			w.WriteHeader(401)
			io.WriteString(w, `{"message":"Bad credentials `+canary+`"}`)
			return
		}
		io.WriteString(w, `{"id":42,"login":"octocat","name":"Mona","email":"mona@example.com","avatar_url":"https://a/x.png"}`)
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, string(b))
		f.headers = append(f.headers, r.Header.Clone())
		tok, prof := f.token, f.profile
		f.mu.Unlock()
		switch r.URL.Path {
		case "/token":
			tok(w, r)
		case "/profile":
			prof(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIdP) setToken(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = h
}

func (f *fakeIdP) setProfile(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.profile = h
}

func (f *fakeIdP) last() (string, http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.bodies) - 1; i >= 0; i-- {
		if f.bodies[i] != "" {
			return f.bodies[i], f.headers[i]
		}
	}
	return "", nil
}

func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	tb.Cleanup(s.Close)
	return s
}

// profileHook reads the fake /profile as passport-github would.
func profileHook(url string) func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
	return func(ctx context.Context, c *oauth2engine.Client, tok *oauth2engine.Token) (*oauth2engine.FullProfile, error) {
		raw, _, err := c.GetJSON(ctx, url, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		fp := &oauth2engine.FullProfile{Raw: raw}
		if id, ok := raw["id"].(int64); ok {
			fp.ID = strconv.FormatInt(id, 10)
		}
		fp.Username, _ = raw["login"].(string)
		fp.DisplayName, _ = raw["name"].(string)
		if e, _ := raw["email"].(string); e != "" {
			fp.Emails = []oauth2engine.Email{{Value: e}}
		}
		if a, _ := raw["avatar_url"].(string); a != "" {
			fp.Photos = []string{a}
		}
		return fp, nil
	}
}

func newEngine(t testing.TB, f *fakeIdP, cfg oauth2engine.Config, hooks oauth2engine.Hooks) *oauth2engine.Engine {
	t.Helper()
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = "my client", "s3cr3t!&="
	}
	if cfg.AuthorizationURL == "" {
		cfg.AuthorizationURL = f.URL + "/authorize"
	}
	cfg.TokenURL = f.URL + "/token"
	e, err := oauth2engine.New(cfg, hooks, providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func callbackReq(params url.Values) providers.CallbackRequest {
	return providers.CallbackRequest{Params: params, CallbackURL: callback, Secrets: providers.FlowSecrets{Nonce: "n0nce", PKCEVerifier: verifier}}
}

func signIn(t *testing.T, e *oauth2engine.Engine) (providers.Result, error) {
	t.Helper()
	return e.Authenticate(context.Background(), callbackReq(url.Values{"code": {"c/+d"}, "state": {"s"}}))
}

func message(err error) string {
	if err == nil {
		return "<nil>"
	}
	return backstageerr.MessageOf(err)
}

func TestStartURL(t *testing.T) {
	f := newFakeIdP(t)
	for _, tc := range []struct {
		name  string
		cfg   oauth2engine.Config
		hooks oauth2engine.Hooks
		scope string
		want  string
	}{
		{"passport order", oauth2engine.Config{}, oauth2engine.Hooks{}, "read:user repo",
			"/authorize?response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fp%2Fhandler%2Fframe&scope=read%3Auser%20repo&state=st&client_id=my%20client"},
		{"empty scope omitted", oauth2engine.Config{}, oauth2engine.Hooks{}, "",
			"/authorize?response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fp%2Fhandler%2Fframe&state=st&client_id=my%20client"},
		{"own query and vendor params first", oauth2engine.Config{AuthorizationURL: f.URL + "/authorize?audience=x&prompt=none"},
			oauth2engine.Hooks{AuthorizeParams: func(providers.StartRequest) oauth2engine.Params {
				return oauth2engine.Params{{Key: "prompt", Value: "consent"}, {Key: "domain_hint", Value: "a b"}}
			}}, "s",
			"/authorize?audience=x&prompt=consent&domain_hint=a%20b&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fp%2Fhandler%2Fframe&scope=s&state=st&client_id=my%20client"},
		{"pkce (challenge computed with Node crypto)", oauth2engine.Config{PKCE: true}, oauth2engine.Hooks{}, "s",
			"/authorize?response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fp%2Fhandler%2Fframe&scope=s&code_challenge=nVXX3UnLnNDXIwmsMQ2iaWUSgHUZIdcv8lDpDMU5KbA&code_challenge_method=S256&state=st&client_id=my%20client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, f, tc.cfg, tc.hooks)
			res, err := e.Start(context.Background(), providers.StartRequest{Scope: tc.scope, State: "st", CallbackURL: callback,
				Secrets: providers.FlowSecrets{Nonce: "n", PKCEVerifier: verifier}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(res.URL, f.URL); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	e := newEngine(t, f, oauth2engine.Config{PKCE: true}, oauth2engine.Hooks{})
	if _, err := e.Start(context.Background(), providers.StartRequest{State: "st", CallbackURL: callback}); err == nil {
		t.Error("PKCE start without a verifier succeeded")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]oauth2engine.Config{
		"no client":        {AuthorizationURL: "https://a/x", TokenURL: "https://a/t"},
		"relative authz":   {ClientID: "c", AuthorizationURL: "/x", TokenURL: "https://a/t"},
		"ftp token":        {ClientID: "c", AuthorizationURL: "https://a/x", TokenURL: "ftp://a/t"},
		"nonce, no verify": {ClientID: "c", AuthorizationURL: "https://a/x", TokenURL: "https://a/t", Nonce: true},
	} {
		if _, err := oauth2engine.New(cfg, oauth2engine.Hooks{}, providers.Deps{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCodeExchangeBody(t *testing.T) {
	f := newFakeIdP(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("my client:s3cr3t!&="))
	const post = "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fp%2Fhandler%2Fframe&client_id=my%20client&client_secret=s3cr3t!%26%3D&code=c%2F%2Bd"
	for _, tc := range []struct {
		name      string
		cfg       oauth2engine.Config
		body      string
		basicAuth string
	}{
		// The body Node's querystring.stringify builds for passport's params.
		{"client_secret_post", oauth2engine.Config{}, post, ""},
		{"post and basic", oauth2engine.Config{ClientAuth: oauth2engine.AuthPostAndBasic}, post, basic},
		{"basic only", oauth2engine.Config{ClientAuth: oauth2engine.AuthBasic},
			"grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fp%2Fhandler%2Fframe&code=c%2F%2Bd", basic},
		{"pkce verifier", oauth2engine.Config{PKCE: true},
			"grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fp%2Fhandler%2Fframe&code_verifier=" + verifier + "&client_id=my%20client&client_secret=s3cr3t!%26%3D&code=c%2F%2Bd", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, f, tc.cfg, oauth2engine.Hooks{})
			if _, err := signIn(t, e); err != nil {
				t.Fatal(err)
			}
			body, h := f.last()
			if body != tc.body {
				t.Errorf("body\n got %s\nwant %s", body, tc.body)
			}
			if got := h.Get("Authorization"); got != tc.basicAuth {
				t.Errorf("Authorization = %q, want %q", got, tc.basicAuth)
			}
			if h.Get("Content-Type") != "application/x-www-form-urlencoded" || h.Get("Accept") != "application/json" || h.Get("User-Agent") != oauth2engine.DefaultUserAgent {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func TestTokenAnswers(t *testing.T) {
	f := newFakeIdP(t)
	e := newEngine(t, f, oauth2engine.Config{}, oauth2engine.Hooks{})
	for _, tc := range []struct {
		name, ctype, body string
		wantExpires       int64
		wantScope         string
		wantSession       bool
	}{
		{"json number", "application/json", `{"access_token":"at-1","expires_in":3600,"scope":"a b","refresh_token":"rt"}`, 3600, "a b", true},
		{"json string expires_in", "application/json", `{"access_token":"at-1","expires_in":"28800"}`, 28800, "", false},
		{"json float", "application/json", `{"access_token":"at-1","expires_in":3599.6}`, 3600, "", false},
		// GitHub without Accept: application/json; every value a string.
		{"form", "application/x-www-form-urlencoded", "access_token=at-1&expires_in=28800&refresh_token=ghr_x&scope=read%3Auser%2Crepo&token_type=bearer", 28800, "read:user,repo", true},
		{"json with a text/plain type", "text/plain", `{"access_token":"at-1","expires_in":60}`, 60, "", false},
		{"form with a json type", "application/json", "access_token=at-1&expires_in=60", 60, "", false},
		{"negative expiry", "application/json", `{"access_token":"at-1","expires_in":-5}`, 0, "", false},
		{"garbage expiry", "application/json", `{"access_token":"at-1","expires_in":"soon"}`, 0, "", false},
		{"absurd expiry", "application/json", `{"access_token":"at-1","expires_in":1e300}`, 0, "", false},
		{"no expiry", "application/json", `{"access_token":"at-1"}`, 0, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.setToken(answer(200, tc.ctype, tc.body))
			res, err := signIn(t, e)
			if err != nil {
				t.Fatal(err)
			}
			pi := res.ProviderInfo
			if pi.AccessToken != "at-1" || pi.ExpiresInSeconds != tc.wantExpires || pi.Scope != tc.wantScope {
				t.Errorf("providerInfo = %+v", pi)
			}
			if (res.Session != nil) != tc.wantSession {
				t.Errorf("session = %s", res.Session)
			}
		})
	}
}

func TestSignInErrors(t *testing.T) {
	f := newFakeIdP(t)
	e := newEngine(t, f, oauth2engine.Config{Timeout: 300 * time.Millisecond}, oauth2engine.Hooks{FetchProfile: profileHook(f.URL + "/profile")})
	for _, tc := range []struct {
		name    string
		params  url.Values
		token   http.HandlerFunc
		profile http.HandlerFunc
		want    string
	}{
		{"denied", url.Values{"error": {"access_denied"}, "error_description": {"The user has denied your application access."}}, nil, nil,
			"Authentication rejected, The user has denied your application access."},
		{"denied without description", url.Values{"error": {"access_denied"}}, nil, nil, "Authentication rejected, access_denied"},
		{"other callback error, markup dropped", url.Values{"error": {"server_error"}, "error_description": {`<b onclick="x">down</b>`}}, nil, nil,
			"Authentication failed, b onclick=xdown/b"},
		{"callback error code that is not a code", url.Values{"error": {"<script>"}}, nil, nil, "Authentication failed, unknown_error"},
		{"no code", url.Values{"state": {"s"}}, nil, nil, oauth2engine.MsgUnexpectedRedirect},
		{"bad code, json 400", nil, answer(400, "application/json", `{"error":"invalid_grant","error_description":"`+canary+`"}`), nil,
			"Authentication failed, Failed to obtain access token (HTTP 400 invalid_grant)"},
		{"5xx html", nil, answer(502, "text/html", "<html>"+canary+"</html>"), nil,
			"Authentication failed, Failed to obtain access token (HTTP 502)"},
		{"5xx json message", nil, answer(500, "application/json", `{"message":"`+canary+`"}`), nil,
			"Authentication failed, Failed to obtain access token (HTTP 500)"},
		// GitHub: status 200, form-encoded error.
		{"200 with error", nil, answer(200, "application/x-www-form-urlencoded", "error=bad_verification_code&error_description="+canary+"&error_uri=https%3A%2F%2Fdocs"), nil,
			"Authentication failed, Failed to obtain access token (bad_verification_code)"},
		{"200 json without token", nil, answer(200, "application/json", `{"token_type":"bearer"}`), nil,
			"Authentication failed, Failed to obtain access token"},
		{"json that is no object", nil, answer(200, "application/json", `null`), nil, "Authentication failed, Failed to obtain access token"},
		{"token answer too large", nil, answer(200, "application/json", `{"access_token":"`+strings.Repeat("a", 2<<20)+`"}`), nil,
			"Authentication failed, Failed to obtain access token (the answer is too large)"},
		{"token timeout", nil, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}, nil, "Authentication failed, Failed to obtain access token (timed out after 300ms)"},
		{"profile 5xx", nil, nil, answer(503, "application/json", `{"message":"`+canary+`"}`),
			"Authentication failed, Failed to fetch user profile (HTTP 503)"},
		{"profile redirect not followed", nil, nil, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.test/", http.StatusFound)
		},
			"Authentication failed, Failed to fetch user profile (HTTP 302)"},
		{"profile not json", nil, nil, answer(200, "text/html", "<html>"+canary),
			"Authentication failed, Failed to fetch user profile (the answer is not a JSON object)"},
		{"profile timeout", nil, nil, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			"Authentication failed, Failed to fetch user profile (timed out after 300ms)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.setToken(answer(200, "application/json", `{"access_token":"at-1"}`))
			if tc.token != nil {
				f.setToken(tc.token)
			}
			f.setProfile(newFakeIdPProfile)
			if tc.profile != nil {
				f.setProfile(tc.profile)
			}
			params := tc.params
			if params == nil {
				params = url.Values{"code": {"c"}}
			}
			_, err := e.Authenticate(context.Background(), callbackReq(params))
			if message(err) != tc.want {
				t.Errorf("error = %q\n want %q", message(err), tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "at-1")) {
				t.Errorf("error leaks an upstream body, secret or token: %q", err)
			}
			if backstageerr.NameOf(err) != backstageerr.NameError {
				t.Errorf("class %s, want a plain Error (the popup's {name: Error})", backstageerr.NameOf(err))
			}
		})
	}
}

func newFakeIdPProfile(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, `{"id":42,"login":"octocat","name":"Mona"}`)
}

func TestUnreachableTokenEndpoint(t *testing.T) {
	f := newFakeIdP(t)
	e := newEngine(t, f, oauth2engine.Config{}, oauth2engine.Hooks{})
	f.Close()
	_, err := signIn(t, e)
	if want := "Authentication failed, Failed to obtain access token (the identity provider could not be reached)"; message(err) != want {
		t.Errorf("%q", message(err))
	}
}

type fakeVerifier struct {
	claims map[string]any
	err    error
	got    []string
}

func (v *fakeVerifier) VerifyIDToken(_ context.Context, raw, nonce, at string) (map[string]any, error) {
	v.got = append(v.got, raw+"|"+nonce+"|"+at)
	return v.claims, v.err
}

const unverifiedIDToken = "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImV2ZUBldmlsLnRlc3QiLCJuYW1lIjoiRXZlIn0."

func TestIDTokenUsedOnlyWhenVerified(t *testing.T) {
	f := newFakeIdP(t)
	f.setToken(answer(200, "application/json", `{"access_token":"at-1","id_token":"`+unverifiedIDToken+`"}`))

	e := newEngine(t, f, oauth2engine.Config{}, oauth2engine.Hooks{})
	res, err := signIn(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{}) || res.Claims["email"] != nil {
		t.Errorf("claims of an unverified ID token were used: profile %+v claims %v", res.Profile, res.Claims)
	}
	if res.ProviderInfo.IDToken != unverifiedIDToken {
		t.Errorf("providerInfo.idToken = %q, want the token passed on", res.ProviderInfo.IDToken)
	}

	v := &fakeVerifier{claims: map[string]any{"sub": "u1", "email": "alice@example.com", "name": "Alice", "picture": "https://p"}}
	e = newEngine(t, f, oauth2engine.Config{Nonce: true}, oauth2engine.Hooks{IDTokenVerifier: v})
	res, err = signIn(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://p", DisplayName: "Alice"}) || res.Claims["sub"] != "u1" {
		t.Errorf("verified claims: profile %+v claims %v", res.Profile, res.Claims)
	}
	if len(v.got) != 1 || v.got[0] != unverifiedIDToken+"|n0nce|at-1" {
		t.Errorf("verifier called with %v, want the token, the flow nonce and the access token", v.got)
	}
	start, _ := e.Start(context.Background(), providers.StartRequest{State: "s", CallbackURL: callback, Secrets: providers.FlowSecrets{Nonce: "n0nce"}})
	if !strings.Contains(start.URL, "&state=s&nonce=n0nce&client_id=") {
		t.Errorf("nonce not sent: %s", start.URL)
	}

	v.err = errors.New("the ID token nonce does not match this sign-in")
	_, err = signIn(t, e)
	if message(err) != "Authentication rejected, the ID token nonce does not match this sign-in" {
		t.Errorf("refused token: %q", message(err))
	}
}

func TestRefresh(t *testing.T) {
	f := newFakeIdP(t)
	e := newEngine(t, f, oauth2engine.Config{}, oauth2engine.Hooks{FetchProfile: profileHook(f.URL + "/profile")})
	f.setProfile(newFakeIdPProfile)
	res, err := signIn(t, e)
	if err != nil {
		t.Fatal(err)
	}
	sess := res.Session
	refresh := func(scope string) (providers.Result, error) {
		return e.Refresh(context.Background(), providers.RefreshRequest{Session: sess, Scope: scope})
	}

	t.Run("grant body and rotation", func(t *testing.T) {
		f.setToken(answer(200, "application/json", `{"access_token":"at-2","expires_in":"7200","refresh_token":"rt-2"}`))
		r, err := refresh("read write")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := f.last()
		if body != "scope=read%20write&grant_type=refresh_token&client_id=my%20client&client_secret=s3cr3t!%26%3D&refresh_token=rt-1" {
			t.Errorf("refresh body %s", body)
		}
		if r.ProviderInfo.AccessToken != "at-2" || r.ProviderInfo.ExpiresInSeconds != 7200 || r.Profile.DisplayName != "Mona" {
			t.Errorf("result %+v", r)
		}
		s, err := oauth2engine.DecodeSession(r.Session)
		if err != nil || s.RefreshToken != "rt-2" || s.Subject != "42" {
			t.Errorf("rotated session %+v %v", s, err)
		}
	})
	t.Run("empty scope still sent, no rotation keeps the session", func(t *testing.T) {
		f.setToken(answer(200, "application/json", `{"access_token":"at-2"}`))
		r, err := refresh("")
		if err != nil {
			t.Fatal(err)
		}
		if body, _ := f.last(); body != "scope=&grant_type=refresh_token&client_id=my%20client&client_secret=s3cr3t!%26%3D&refresh_token=rt-1" {
			t.Errorf("refresh body %s", body)
		}
		if r.Session != nil {
			t.Errorf("unchanged session re-sealed: %s", r.Session)
		}
	})
	for _, tc := range []struct {
		name, want, class string
		token             http.HandlerFunc
		profile           http.HandlerFunc
	}{
		{name: "revoked", token: answer(400, "application/json", `{"error":"invalid_grant","error_description":"`+canary+`"}`),
			want: "The identity provider session has ended, please sign in again (invalid_grant)", class: backstageerr.NameAuthentication},
		{name: "github's 200 bad_refresh_token", token: answer(200, "application/x-www-form-urlencoded", "error=bad_refresh_token&error_description="+canary),
			want: "The identity provider session has ended, please sign in again (bad_refresh_token)", class: backstageerr.NameAuthentication},
		{name: "no access token", token: answer(200, "application/json", `{}`), want: oauth2engine.MsgNoAccessTokenOnRefresh, class: backstageerr.NameError},
		{name: "5xx", token: answer(500, "text/plain", canary), want: "Failed to refresh access token (HTTP 500)", class: backstageerr.NameError},
		{name: "profile 401", token: answer(200, "application/json", `{"access_token":"at-9"}`), want: oauth2engine.MsgInvalidAccessToken, class: backstageerr.NameError},
		{name: "another user", token: answer(200, "application/json", `{"access_token":"at-2"}`),
			profile: answer(200, "application/json", `{"id":7,"login":"mallory"}`),
			want:    "The identity provider returned another user's profile on refresh, please sign in again", class: backstageerr.NameAuthentication},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.setToken(tc.token)
			f.setProfile(tc.profile)
			if tc.profile == nil {
				f.setProfile(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("Authorization") != "Bearer at-2" {
						answer(401, "application/json", `{"message":"`+canary+`"}`)(w, r)
						return
					}
					newFakeIdPProfile(w, r)
				})
			}
			_, err := refresh("s")
			if message(err) != tc.want || backstageerr.NameOf(err) != tc.class {
				t.Errorf("error = %s %q\n want %s %q", backstageerr.NameOf(err), message(err), tc.class, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), canary) {
				t.Errorf("leaks the upstream body: %q", err)
			}
		})
	}
	t.Run("unreadable session", func(t *testing.T) {
		for _, b := range [][]byte{nil, []byte("{"), []byte(`{"v":9,"rt":"x"}`), []byte(`{"v":1}`)} {
			_, err := e.Refresh(context.Background(), providers.RefreshRequest{Session: b})
			if backstageerr.NameOf(err) != backstageerr.NameAuthentication {
				t.Errorf("%s: %v", b, err)
			}
		}
	})
}

func TestKeepAccessToken(t *testing.T) {
	f := newFakeIdP(t)
	keep := func(tok *oauth2engine.Token) bool { return tok.RefreshToken == "" && tok.ExpiresIn == 0 }
	e := newEngine(t, f, oauth2engine.Config{}, oauth2engine.Hooks{FetchProfile: profileHook(f.URL + "/profile"), KeepAccessToken: keep})

	f.setToken(answer(200, "application/json", `{"access_token":"at-1","expires_in":28800}`))
	res, err := signIn(t, e)
	if err != nil || res.Session != nil {
		t.Fatalf("an expiring token without refresh token must not be kept: %s %v", res.Session, err)
	}

	f.setToken(answer(200, "application/x-www-form-urlencoded", "access_token=at-1&scope=read%3Auser&token_type=bearer"))
	res, err = signIn(t, e)
	if err != nil {
		t.Fatal(err)
	}
	s, err := oauth2engine.DecodeSession(res.Session)
	if err != nil || s.AccessToken != "at-1" || s.RefreshToken != "" || s.Subject != "42" {
		t.Fatalf("session %+v %v", s, err)
	}
	n := len(f.bodies)
	r, err := e.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session, Scope: "read:user"})
	if err != nil {
		t.Fatal(err)
	}
	// No token answer names a scope: the scope being refreshed is reported (the
	// GitHub and OpenShift modules' scope: input.scope).
	if r.ProviderInfo.AccessToken != "at-1" || r.ProviderInfo.ExpiresInSeconds != 0 || r.Profile.DisplayName != "Mona" || r.Session != nil ||
		r.ProviderInfo.Scope != "read:user" {
		t.Errorf("refresh result %+v", r)
	}
	for _, b := range f.bodies[n:] {
		if b != "" {
			t.Errorf("a kept access token must not run a grant; sent %q", b)
		}
	}
	// Revoked at the vendor: the profile endpoint answers 401.
	f.setProfile(answer(401, "application/json", `{"message":"Bad credentials"}`))
	if _, err := e.Refresh(context.Background(), providers.RefreshRequest{Session: res.Session}); message(err) != oauth2engine.MsgInvalidAccessToken {
		t.Errorf("revoked token: %v", err)
	}
}

func TestDefaultProfileTransform(t *testing.T) {
	no, yes := false, true
	for _, tc := range []struct {
		name   string
		fp     oauth2engine.FullProfile
		claims map[string]any
		want   providers.Profile
	}{
		{"emails and photos", oauth2engine.FullProfile{ID: "1", Username: "u", DisplayName: "D", Emails: []oauth2engine.Email{{Value: "a@x"}}, Photos: []string{"p1", "p2"}},
			nil, providers.Profile{Email: "a@x", Picture: "p1", DisplayName: "D"}},
		{"unverified email entry dropped, not refilled from the ID token", oauth2engine.FullProfile{Emails: []oauth2engine.Email{{Value: "a@x", Verified: &no}}},
			map[string]any{"email": "b@x"}, providers.Profile{}},
		{"verified entry kept", oauth2engine.FullProfile{Emails: []oauth2engine.Email{{Value: "a@x", Verified: &yes}}}, nil, providers.Profile{Email: "a@x"}},
		{"raw email_verified false drops it", oauth2engine.FullProfile{Email: "a@x", Raw: map[string]any{"email": "a@x", "email_verified": false}},
			nil, providers.Profile{}},
		{"raw email_verified string false is not boolean false", oauth2engine.FullProfile{Email: "a@x", Raw: map[string]any{"email": "a@x", "email_verified": "false"}},
			nil, providers.Profile{Email: "a@x"}},
		{"avatarUrl wins, then photo", oauth2engine.FullProfile{AvatarURL: "av", Photos: []string{"p"}, Photo: "ph"}, nil, providers.Profile{Picture: "av"}},
		{"singular photo", oauth2engine.FullProfile{Photo: "ph"}, nil, providers.Profile{Picture: "ph"}},
		{"displayName falls back to username, then id", oauth2engine.FullProfile{ID: "7", Username: "octo"}, nil, providers.Profile{DisplayName: "octo"}},
		{"id last", oauth2engine.FullProfile{ID: "7"}, nil, providers.Profile{DisplayName: "7"}},
		{"verified ID token fills the gaps", oauth2engine.FullProfile{},
			map[string]any{"email": "c@x", "picture": "pic", "name": "N"}, providers.Profile{Email: "c@x", Picture: "pic", DisplayName: "N"}},
		{"ID token email_verified false", oauth2engine.FullProfile{}, map[string]any{"email": "c@x", "email_verified": false}, providers.Profile{}},
		{"ID token email_verified string false", oauth2engine.FullProfile{}, map[string]any{"email": "c@x", "email_verified": "false"}, providers.Profile{}},
		{"ID token email_verified true", oauth2engine.FullProfile{}, map[string]any{"email": "c@x", "email_verified": true}, providers.Profile{Email: "c@x"}},
	} {
		fp := tc.fp
		if got := oauth2engine.DefaultProfileTransform(&fp, tc.claims); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := oauth2engine.DefaultProfileTransform(nil, nil); got != (providers.Profile{}) {
		t.Errorf("nil profile: %+v", got)
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
	}{{int64(60), 60}, {59.5, 60}, {"120", 120}, {" 120 ", 120}, {"1.5e3", 1500}, {"", 0}, {"x", 0}, {nil, 0}, {true, 0}, {0.4, 0}, {"NaN", 0}, {"Infinity", 0}, {int64(-1), 0}} {
		if got := oauth2engine.Seconds(tc.in); got != tc.want {
			t.Errorf("Seconds(%#v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
