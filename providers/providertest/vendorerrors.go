package providertest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// VendorError is a fault of a vendor mock and the sign-in error message it must give.
type VendorError struct {
	Fault mockvendor.Fault
	Want  string
}

// VendorErrors arms each fault at idp, signs in through p and client, and checks that
// the sign-in fails with exactly that message.
func VendorErrors(t *testing.T, idp *mockvendor.Server, p providers.OAuthProvider, client *http.Client, scope string, cases []VendorError) {
	t.Helper()
	vendorErrors(t, idp, p, client, scope, cases, false)
}

// VendorErrorsNoLeak is VendorErrors that also checks that no error carries the
// upstream body (the mock's fault answers hold the word "canary").
func VendorErrorsNoLeak(t *testing.T, idp *mockvendor.Server, p providers.OAuthProvider, client *http.Client, scope string, cases []VendorError) {
	t.Helper()
	vendorErrors(t, idp, p, client, scope, cases, true)
}

func vendorErrors(t *testing.T, idp *mockvendor.Server, p providers.OAuthProvider, client *http.Client, scope string, cases []VendorError, noLeak bool) {
	t.Helper()
	for _, tc := range cases {
		idp.SetFault(tc.Fault)
		_, err := VendorSignIn(t, p, client, scope)
		if msg := Message(err); msg != tc.Want {
			t.Errorf("%+v: %q, want %q", tc.Fault, msg, tc.Want)
		}
		if noLeak && err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("%+v: leaks the upstream body: %v", tc.Fault, err)
		}
		idp.ClearFault()
	}
}

// BadCode redeems a code the vendor never issued through p and checks the error's
// message.
func BadCode(t *testing.T, p providers.OAuthProvider, want string) {
	t.Helper()
	_, err := p.Authenticate(context.Background(), providers.CallbackRequest{Params: url.Values{"code": {"used"}}, CallbackURL: callbackURL, Secrets: NewSecrets()})
	if msg := Message(err); msg != want {
		t.Errorf("bad code: %q, want %q", msg, want)
	}
}

// ForeignNonce runs a sign-in whose callback comes with another sign-in's nonce (the
// code was issued for one browser's flow and is redeemed in another's) and returns
// Authenticate's error.
func ForeignNonce(t *testing.T, p providers.OAuthProvider, client *http.Client, scope string) error {
	t.Helper()
	secrets := NewSecrets()
	params, err := VendorAuthorize(t, p, client, scope, secrets)
	if err != nil {
		return err
	}
	secrets.Nonce = NewSecrets().Nonce
	_, err = p.Authenticate(context.Background(), providers.CallbackRequest{Params: params, CallbackURL: callbackURL, Secrets: secrets})
	return err
}
