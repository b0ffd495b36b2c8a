package providertest

import (
	"context"
	"net/http"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
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
	for _, tc := range cases {
		idp.SetFault(tc.Fault)
		_, err := VendorSignIn(t, p, client, scope)
		if msg := backstageerr.MessageOf(err); msg != tc.Want {
			t.Errorf("%+v: %q, want %q", tc.Fault, msg, tc.Want)
		}
		idp.ClearFault()
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
