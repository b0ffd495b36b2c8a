package authbackend

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/sessions"
)

const refreshCookie = "spectrocloud-refresh-token"

// sessionHarness is the harness with a session registry over a memory store.
func sessionHarness(t *testing.T, mods ...harnessOption) (*harness, *sessions.MemoryStore, *sessions.Registry, *recordingMetrics, *auditLog) {
	t.Helper()
	store := sessions.NewMemoryStore()
	reg := sessions.New(sessions.Options{Store: store, Now: func() time.Time { return testNow }})
	if err := reg.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	mods = append([]harnessOption{func(o *Options, _ *fakeProvider) { o.Sessions = reg }}, mods...)
	h, m, log := observedHarness(t, mods...)
	return h, store, reg, m, log
}

func (h *harness) refresh(cookie string) *httptest.ResponseRecorder {
	return h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: map[string]string{refreshCookie: cookie}})
}

func (h *harness) logout(cookie string) *httptest.ResponseRecorder {
	return h.do(req{method: http.MethodPost, target: "/api/auth/spectrocloud/logout?env=development", headers: xrw, cookies: map[string]string{refreshCookie: cookie}})
}

// A sign-in records a session; logout ends it, so a copy of the cookie (kept by
// whoever copied it before the logout) no longer refreshes; the refusal is counted as
// revoked and the revocation audited.
func TestLogoutRevokesTheSession(t *testing.T) {
	h, store, _, m, log := sessionHarness(t)
	set, _ := h.signIn(t, "env=development")
	cookie := set[refreshCookie]
	live := store.Live()
	if len(live) != 1 || live[0].UserEntityRef != "user:default/alice" || live[0].Provider != testProvider {
		t.Fatalf("session records after sign-in: %+v", live)
	}
	if want := testNow.Add(defaultSessionDurationForTest(h)); !live[0].ExpiresAt.Equal(want) {
		t.Errorf("session expires %v, want sign-in + sessionDuration %v", live[0].ExpiresAt, want)
	}
	if rec := h.refresh(cookie); rec.Code != 200 {
		t.Fatalf("refresh before logout: %d %s", rec.Code, rec.Body.String())
	}
	m.take()
	log.take(t)

	if rec := h.logout(cookie); rec.Code != 200 {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body.String())
	}
	recs := log.take(t)
	if len(recs) != 2 {
		t.Fatalf("audit records at logout: %v", recs)
	}
	checkRecord(t, recs[1:], map[string]any{"eventId": "session-revoke", "severityLevel": "high", "status": "succeeded",
		"actor.actorId": "user:default/alice", "meta.provider": testProvider, "meta.reason": "logout"})
	if len(store.Live()) != 0 {
		t.Errorf("live sessions after logout: %+v", store.Live())
	}

	rec := h.refresh(cookie)
	checkError(t, rec, 401, backstageerr.NameAuthentication, "Refresh failed; caused by AuthenticationError: "+msgSessionRevoked)
	checkCalls(t, m.take(), "refresh spectrocloud revoked")
	if _, _, got, _ := h.prov.counts(); got != 1 {
		t.Errorf("the IdP was asked %d times; a revoked session must not reach it", got)
	}
}

func defaultSessionDurationForTest(h *harness) time.Duration {
	return h.srv.oauth[testProvider].envs["development"].maxAge
}

// A cookie sealed without a session id (by a server that kept no sessions) cannot be
// revoked, so a server that keeps sessions refuses it.
func TestRefreshRefusesACookieWithoutSessionID(t *testing.T) {
	h, _, _, m, _ := sessionHarness(t)
	cookie := h.sealedCookie(t, sealedSession{Session: []byte(`{}`), IssuedAt: testNow.Unix()})
	rec := h.refresh(cookie)
	checkError(t, rec, 401, backstageerr.NameAuthentication, "Refresh failed; caused by AuthenticationError: Invalid session cookie, please sign in again")
	checkCalls(t, m.take(), "refresh spectrocloud invalid_session")
}

// When the session cannot be recorded, the sign-in fails with a 503 and sets no
// refresh cookie (a session nobody could revoke).
func TestSignInFailsWhenTheSessionCannotBeRecorded(t *testing.T) {
	h, store, _, _, _ := sessionHarness(t)
	store.SetErr(errors.New("dial tcp 10.0.0.5:5432: i/o timeout"))
	set, frame := h.signIn(t, "env=development")
	if set[refreshCookie] != "" {
		t.Fatal("a refresh cookie was set without a session record")
	}
	page := parseFramePage(t, frame)
	if want := `{"type":"authorization_response","error":{"name":"ServiceUnavailableError","message":"` + msgSessionNotStored + `"}}`; page.raw != want {
		t.Fatalf("frame page message %s, want %s", page.raw, want)
	}
	if strings.Contains(frame.Body.String(), "10.0.0.5") {
		t.Fatal("the database address reached the user")
	}
}

// While the store is down, logout still signs out here (the session is refused at
// once by this process), the failure is audited, and the revocation is stored when
// the store is back.
func TestLogoutWhileTheStoreIsDown(t *testing.T) {
	h, store, reg, _, log := sessionHarness(t)
	set, _ := h.signIn(t, "env=development")
	cookie := set[refreshCookie]
	store.SetErr(errors.New("connection refused"))
	log.take(t)
	if rec := h.logout(cookie); rec.Code != 200 {
		t.Fatalf("logout: %d", rec.Code)
	}
	recs := log.take(t)
	checkRecord(t, recs[1:], map[string]any{"eventId": "session-revoke", "status": "failed", "meta.outcome": "error"})
	store.SetErr(nil)
	checkError(t, h.refresh(cookie), 401, backstageerr.NameAuthentication, "Refresh failed; caused by AuthenticationError: "+msgSessionRevoked)
	// The revocation is not lost for the other replicas: it reaches the store once that
	// is back (the registry retries every second).
	reg.RetryPending(context.Background())
	if revs, _ := store.ListRevoked(context.Background(), testNow); len(revs) != 1 || len(store.Live()) != 0 {
		t.Fatalf("after the store came back: revoked %v, live %v", revs, store.Live())
	}
}

type fakePluginTokens map[string]struct {
	plugin string
	obo    bool
}

func (f fakePluginTokens) VerifyPluginToken(_ context.Context, token string) (string, bool, error) {
	if p, ok := f[token]; ok {
		return p.plugin, p.obo, nil
	}
	return "", false, backstageerr.Authentication("Failed plugin token verification")
}

func legacyToken(t *testing.T, secret []byte, sub string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": exp.Unix()}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// POST /v1/offline-sessions/revoke: service credentials only (Backstage's statuses and
// messages), every session of the user ended and counted, audited as Backstage's
// offline-sessions-revoke.
func TestOfflineSessionsRevoke(t *testing.T) {
	secret := []byte("legacy-secret-0123456789")
	h, store, reg, _, log := sessionHarness(t, func(o *Options, _ *fakeProvider) {
		o.Config.Backend.Auth.ExternalAccess = append(o.Config.Backend.Auth.ExternalAccess,
			config.ExternalAccess{Type: "legacy", Secret: "bGVnYWN5LXNlY3JldC0wMTIzNDU2Nzg5", Subject: "old-ci"})
	})
	ctx := context.Background()
	end := testNow.Add(time.Hour)
	a1, _ := reg.Begin(ctx, "user:default/alice", testProvider, end)
	a2, _ := reg.Begin(ctx, "user:default/alice", testProvider, end)
	bob, _ := reg.Begin(ctx, "user:default/bob", testProvider, end)
	revoke := func(auth, body string) *httptest.ResponseRecorder {
		r := req{method: http.MethodPost, target: "/api/auth/v1/offline-sessions/revoke",
			headers: map[string]string{"Content-Type": "application/json"}}
		if auth != "" {
			r.headers["Authorization"] = auth
		}
		hr := httptest.NewRequest(r.method, r.target, strings.NewReader(body))
		for k, v := range r.headers {
			hr.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, hr)
		return rec
	}
	body := `{"userEntityRef":"alice"}`
	checkError(t, revoke("", body), 401, backstageerr.NameAuthentication, "Missing credentials")
	checkError(t, revoke("Bearer alice-token", body), 403, backstageerr.NameNotAllowed, "This endpoint does not allow 'user' credentials")
	checkError(t, revoke("Bearer not-a-token", body), 401, backstageerr.NameAuthentication, "Illegal token")
	checkError(t, revoke("Bearer "+legacyToken(t, []byte("wrong"), "backstage-server", testNow.Add(time.Hour)), body), 401, backstageerr.NameAuthentication, "Illegal token")
	checkError(t, revoke("Bearer "+testStaticToken, `{"userEntityRef":"group:default/admins"}`), 400, backstageerr.NameInput, `Validation error: Must refer to a user entity at "userEntityRef"`)
	checkError(t, revoke("Bearer "+testStaticToken, `{}`), 400, backstageerr.NameInput, `Validation error: Invalid input: expected string, received undefined at "userEntityRef"`)
	checkError(t, revoke("Bearer "+testStaticToken, `{"userEntityRef":7}`), 400, backstageerr.NameInput, `Validation error: Invalid input: expected string, received number at "userEntityRef"`)
	checkError(t, revoke("Bearer "+testStaticToken, `{"userEntityRef":""}`), 400, backstageerr.NameInput, `Validation error: Too small: expected string to have >=1 characters at "userEntityRef"`)
	checkError(t, revoke("Bearer "+testStaticToken, `{"userEntityRef":`), 400, backstageerr.NameSyntax, "Unexpected token in JSON")
	checkError(t, revoke("Bearer "+testStaticToken, `{"userEntityRef":"`+strings.Repeat("a", 70<<10)+`"}`), 413, backstageerr.NamePayloadTooLarge, "request entity too large")
	if len(store.Live()) != 3 {
		t.Fatal("a refused request revoked sessions")
	}
	log.take(t)

	rec := revoke("Bearer "+testStaticToken, body)
	if rec.Code != 200 || rec.Body.String() != `{"revokedCount":2}` {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body.String())
	}
	checkRecord(t, log.take(t), map[string]any{"eventId": "offline-sessions-revoke", "severityLevel": "high",
		"actor.actorId": "external:ci", "meta.userEntityRef": "user:default/alice", "meta.revokedCount": float64(2)})
	if !reg.Revoked(a1) || !reg.Revoked(a2) || reg.Revoked(bob) {
		t.Fatal("wrong sessions revoked")
	}
	// A legacy externalAccess token works too; nothing is left to revoke.
	rec = revoke("Bearer "+legacyToken(t, secret, "backstage-server", time.Now().Add(time.Hour)), `{"userEntityRef":"User:default/Alice"}`)
	if rec.Code != 200 || rec.Body.String() != `{"revokedCount":0}` {
		t.Fatalf("legacy revoke: %d %s", rec.Code, rec.Body.String())
	}
	// Plugin tokens: the calling plugin is the actor; one on behalf of a user is that
	// user's credentials.
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"vnd.backstage.plugin","alg":"ES256","kid":"k"}`))
	h.srv.opts.PluginTokens = fakePluginTokens{head + ".e30.catalog": {"catalog", false}, head + ".e30.obo": {"catalog", true}}
	log.take(t)
	if rec := revoke("Bearer "+head+".e30.catalog", body); rec.Code != 200 {
		t.Fatalf("plugin token: %d %s", rec.Code, rec.Body.String())
	}
	checkRecord(t, log.take(t), map[string]any{"eventId": "offline-sessions-revoke", "actor.actorId": "plugin:catalog"})
	checkError(t, revoke("Bearer "+head+".e30.obo", body), 403, backstageerr.NameNotAllowed, "This endpoint does not allow 'user' credentials")
	checkError(t, revoke("Bearer "+head+".e30.forged", body), 401, backstageerr.NameAuthentication, "Failed plugin token verification")

	// The store down: 503, audited as failed.
	store.SetErr(errors.New("timeout"))
	log.take(t)
	checkError(t, revoke("Bearer "+testStaticToken, body), 503, backstageerr.NameServiceUnavailable, "The sessions of user:default/alice could not be revoked, please try again")
	checkRecord(t, log.take(t), map[string]any{"eventId": "offline-sessions-revoke", "status": "failed"})
}

// A revocation's tombstone lasts as long as the session could: sign-in +
// sessionDuration, even when the provider's own end was earlier at sign-in (a refresh
// that rotates the session may move that end later).
func TestSessionEndIsTheHardBound(t *testing.T) {
	h := newHarness(t)
	e := h.srv.oauth[testProvider].envs["development"]
	ss := sealedSession{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Minute).Unix()}
	if got, want := sessionEnd(e, ss), testNow.Add(e.maxAge); !got.Equal(want) {
		t.Fatalf("sessionEnd = %v, want %v", got, want)
	}
}
