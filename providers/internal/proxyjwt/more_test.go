package proxyjwt

import (
	"errors"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

func TestAsBackstage(t *testing.T) {
	undecided := keyError(&keyfetch.UnavailableError{URL: "https://keys.example/x", Status: 503})
	err := AsBackstage(undecided, "refused, ", "down")
	be, _ := backstageerr.As(err)
	if be.Name != backstageerr.NameServiceUnavailable || be.Message != "down" || be.Detail == "" {
		t.Errorf("undecided: %+v", be)
	}
	var u *keyfetch.UnavailableError
	if !errors.As(err, &u) {
		t.Error("the keyfetch error (with its RetryAfter) is not in the chain")
	}
	err = AsBackstageCaused(keyError(&keyfetch.SignatureError{KID: "k"}), "Exception occurred during JWT processing", "down")
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || err.Error() != "Exception occurred during JWT processing; caused by Error: the token's signature is invalid" {
		t.Errorf("refused: %v", err)
	}
	if err := AsBackstage(Rejected("no %s", "email"), "x: ", "down"); err.Error() != "x: no email" || backstageerr.NameOf(err) != backstageerr.NameAuthentication {
		t.Errorf("rejected: %v", err)
	}
}

func TestHeaderOf(t *testing.T) {
	h := HeaderOf(&Token{Raw: "eyJhbGciOiJFUzI1NiIsInNpZ25lciI6ImFybjp4In0=.e30.c2ln"})
	if h["signer"] != "arn:x" || h["alg"] != "ES256" {
		t.Errorf("header %v", h)
	}
}
