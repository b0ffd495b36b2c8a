package authbackend

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

type retryIn time.Duration

func (r retryIn) Error() string             { return "keys down" }
func (r retryIn) RetryAfter() time.Duration { return time.Duration(r) }
func (r retryIn) unavailable() *backstageerr.Error {
	return &backstageerr.Error{Name: backstageerr.NameServiceUnavailable, Message: "keys could not be fetched", Cause: r}
}

type downProxy struct{ err error }

func (d downProxy) AuthenticateRequest(context.Context, *http.Request) (providers.ProxyResult, error) {
	return providers.ProxyResult{}, d.err
}

// A proxy provider that could not decide (its key endpoint is down) answers 503 with
// the Retry-After its error carries; a refusal has none.
func TestProxyUnavailableRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		retry  string
	}{
		{retryIn(2500 * time.Millisecond).unavailable(), 503, "3"},
		{backstageerr.ServiceUnavailable("no hint"), 503, ""},
		{backstageerr.Authentication("refused"), 401, ""},
	} {
		h := newHarness(t, func(o *Options, _ *fakeProvider) {
			o.Providers = append(o.Providers, providers.Configured{ID: "myproxy", Kind: providers.KindProxy,
				Envs: map[string]*providers.Env{"": {Provider: downProxy{tc.err}, Resolver: &recordingResolver{}}}})
			o.RegisteredIDs = append(o.RegisteredIDs, "myproxy")
		})
		rec := h.do(req{target: "/api/auth/myproxy/refresh"})
		if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.retry {
			t.Errorf("%v: %d Retry-After %q, want %d %q", tc.err, rec.Code, rec.Header().Get("Retry-After"), tc.status, tc.retry)
		}
	}
}
