package mockkit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPKCE(t *testing.T) {
	// RFC 7636 appendix B.
	const verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if !VerifierMatches(challenge, verifier) || VerifierMatches(challenge, verifier+"x") || VerifierMatches(challenge, "") {
		t.Error("VerifierMatches")
	}
	if !ChallengeOK("", "") || !ChallengeOK(challenge, "S256") || ChallengeOK(challenge, "plain") || ChallengeOK("short", "S256") || ChallengeOK("", "S256") {
		t.Error("ChallengeOK")
	}
}

func TestRedirects(t *testing.T) {
	for raw, ok := range map[string]bool{"http://app/cb": true, "https://app/cb?x=1": true, "": false, "/cb": false, "javascript:alert(1)": false} {
		if _, got := RedirectURI(raw, nil); got != ok {
			t.Errorf("RedirectURI(%q) = %v", raw, got)
		}
	}
	if _, ok := RedirectURI("http://app/other", []string{"http://app/cb"}); ok {
		t.Error("an unregistered redirect_uri passed")
	}
	ru, _ := RedirectURI("https://app/cb?x=1", nil)
	rec := httptest.NewRecorder()
	RedirectBack(rec, httptest.NewRequest("GET", "/authorize", nil), ru, "st", url.Values{"code": {"c1"}})
	if loc := rec.Header().Get("Location"); loc != "https://app/cb?code=c1&state=st&x=1" {
		t.Errorf("Location %q", loc)
	}
}

func TestRecorder(t *testing.T) {
	var rc Recorder
	rc.Record(httptest.NewRequest("POST", "/token?a=1", strings.NewReader("grant_type=x")))
	r := httptest.NewRequest("POST", "/token", strings.NewReader("grant_type=y"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rc.Record(r)
	rc.Record(httptest.NewRequest("GET", "/user", nil))
	if got := rc.RequestsTo("/token"); len(got) != 2 || got[0].Query.Get("a") != "1" || got[1].Form.Get("grant_type") != "y" {
		t.Fatalf("RequestsTo: %+v", got)
	}
	rc.ResetRequests()
	if len(rc.Requests()) != 0 {
		t.Error("ResetRequests")
	}
}

func TestKeys(t *testing.T) {
	if Key(0) != Key(0) || Key(0) == Key(1) {
		t.Fatal("keys are not cached per index")
	}
	tok := SignRS256(Key(1), "k1", map[string]any{"sub": "u1"})
	set := JWKS(&Key(1).PublicKey, "k1")
	keys := set["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["kid"] != "k1" {
		t.Fatalf("JWKS %v", set)
	}
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return &Key(1).PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"}))
	if err != nil || parsed.Header["kid"] != "k1" {
		t.Fatalf("token does not verify: %v", err)
	}
}

// A delayed answer whose client gave up is aborted (http.ErrAbortHandler: no answer at
// all), never returned from as an empty 200 the client might still read.
func TestDelayAbortsEndedRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
	defer func() {
		if got := recover(); got != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", got)
		}
	}()
	Delay(r, time.Minute)
	t.Error("Delay returned for an ended request")
}
