package providertest

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// VendorHosts serves h over TLS on 127.0.0.1 and returns a client that sends every
// request there, whatever its host, with the URL and Host header unchanged: a provider
// that hard-codes its vendor's hosts (login.microsoftonline.com, accounts.google.com)
// reaches a mock personality in a unit test, and the mock sees the vendor's host name
// (as it does behind integration's CONNECT proxy). Pass the client in providers.Deps.
func VendorHosts(t testing.TB, h http.Handler) *http.Client {
	t.Helper()
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	tr := ts.Client().Transport.(*http.Transport).Clone()
	addr := ts.Listener.Addr().String()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	tr.Proxy = nil
	// httptest's certificate names example.com; verify it as that.
	tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	tr.TLSClientConfig.MinVersion = tls.VersionTLS12
	return &http.Client{Transport: tr}
}

// VendorSignIn runs one sign-in through an OAuth provider and a vendor mock, as the
// router and a browser would: Start with fresh secrets and scope, the authorize
// request through client (its redirect back is not followed), then Authenticate with
// what came back (a code, or the vendor's error).
func VendorSignIn(t testing.TB, p providers.OAuthProvider, client *http.Client, scope string) (providers.Result, error) {
	t.Helper()
	secrets := NewSecrets()
	params, err := VendorAuthorize(t, p, client, scope, secrets)
	if err != nil {
		return providers.Result{}, err
	}
	return p.Authenticate(context.Background(), providers.CallbackRequest{Params: params, CallbackURL: callbackURL, Secrets: secrets})
}

// VendorAuthorize runs Start with secrets and the vendor's authorize request through
// client, and returns the callback's parameters (an error is Start's).
func VendorAuthorize(t testing.TB, p providers.OAuthProvider, client *http.Client, scope string, secrets providers.FlowSecrets) (url.Values, error) {
	t.Helper()
	start, err := p.Start(context.Background(), providers.StartRequest{Scope: scope, State: "6e6f6e63653d616263", CallbackURL: callbackURL, Secrets: secrets})
	if err != nil {
		return nil, err
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(start.URL)
	if err != nil {
		t.Fatalf("authorize request: %v", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), callbackURL+"?") {
		t.Fatalf("authorize: %d to %q, want a redirect to the callback", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query(), nil
}

// CallbackURL is the redirect_uri VendorSignIn and Flow use.
const CallbackURL = callbackURL
