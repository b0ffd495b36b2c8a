package authbackend

import (
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// outageErr is how a provider reports an IdP outage that decided nothing: a
// ServiceUnavailableError with a retry hint in its chain.
type outageErr struct{ after time.Duration }

func (e outageErr) Error() string             { return "the identity provider's signing keys could not be fetched" }
func (e outageErr) RetryAfter() time.Duration { return e.after }

// Security finding 5 at the router: a provider's IdP outage is a 503 with Retry-After
// (the session stands), not Backstage's 401 "Refresh failed", which the frontend reads
// as signed out. Any other failure keeps Backstage's wrapping.
func TestRefreshAnswers503ForAnIdPOutage(t *testing.T) {
	h := newHarness(t)
	set, _ := h.signIn(t, "env=development")
	cookie := map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}

	e := backstageerr.Wrap(backstageerr.NameServiceUnavailable, backstageerr.Plain("the identity provider's signing keys could not be fetched"),
		"The identity provider is unavailable, please try again later")
	e.Cause = outageErr{after: 2500 * time.Millisecond}
	h.prov.refreshErr = e
	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: cookie})
	body := checkError(t, rec, 503, backstageerr.NameServiceUnavailable,
		"The identity provider is unavailable, please try again later; caused by Error: the identity provider's signing keys could not be fetched")
	if got := rec.Header().Get("Retry-After"); got != "3" {
		t.Errorf("Retry-After %q, want 3 (seconds, rounded up)", got)
	}
	if body.Error.Cause == nil || body.Error.Cause.Message != "the identity provider's signing keys could not be fetched" {
		t.Errorf("cause %+v", body.Error.Cause)
	}
	if _, lines := setCookies(rec); len(lines) != 0 || strings.Contains(rec.Body.String(), "backstageIdentity") {
		t.Errorf("a 503 must neither set cookies nor carry a token: %v %s", lines, rec.Body.String())
	}

	// The session was kept: once the IdP is back the same cookie refreshes.
	h.prov.refreshErr = nil
	if rec := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: cookie}); rec.Code != 200 {
		t.Fatalf("refresh after the outage: %d %s", rec.Code, rec.Body.String())
	}

	// A ServiceUnavailableError without a retry hint is not the provider's outage
	// contract (a remote catalog, say): Backstage's 401 wrapping as before.
	h.prov.refreshErr = backstageerr.ServiceUnavailable("Catalog lookup failed: the catalog could not be reached")
	rec = h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw, cookies: cookie})
	checkError(t, rec, 401, backstageerr.NameAuthentication,
		"Refresh failed; caused by ServiceUnavailableError: Catalog lookup failed: the catalog could not be reached")
	if rec.Header().Get("Retry-After") != "" {
		t.Error("Retry-After on a 401")
	}
}
