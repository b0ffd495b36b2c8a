package backstageerr

import (
	"errors"
	"fmt"
	"testing"
)

// illegal is a classed error with a cause of its own, as token verification returns.
func illegal() *Error {
	return &Error{Name: NameAuthentication, Message: "Illegal token", Cause: errors.New("not a compact JWS")}
}

func TestClassesAndMessages(t *testing.T) {
	for _, tc := range []struct {
		err              error
		name, msg        string
		status           int
		isNotFoundResult bool
	}{
		{Input("bad %s", "x"), NameInput, "bad x", 400, false},
		{fmt.Errorf("lookup: %w", NotFound("User not found")), NameNotFound, "lookup: User not found", 404, true},
		{illegal(), NameAuthentication, "Illegal token", 401, false},
		{fmt.Errorf("verify: %w", illegal()), NameAuthentication, "verify: Illegal token", 401, false},
		{errors.New("boom"), NameError, "boom", 500, false},
		{Wrap(NameAuthentication, Input("Missing session cookie"), "Refresh failed"), NameAuthentication,
			"Refresh failed; caused by InputError: Missing session cookie", 401, false},
		{Wrap(NameAuthentication, illegal(), "Refresh failed"), NameAuthentication,
			"Refresh failed; caused by AuthenticationError: Illegal token", 401, false},
		{Wrap(NameAuthentication, errors.New("x"), "Refresh failed"), NameAuthentication,
			"Refresh failed; caused by Error: x", 401, false},
		{ServiceUnavailable("down"), NameServiceUnavailable, "down", 503, false},
		{NotImplemented("Not implemented"), NameNotImplemented, "Not implemented", 501, false},
		{New(NameSyntax, "Unexpected token in JSON"), NameSyntax, "Unexpected token in JSON", 400, false},
		{New(NamePayloadTooLarge, "request entity too large"), NamePayloadTooLarge, "request entity too large", 413, false},
	} {
		if got := NameOf(tc.err); got != tc.name {
			t.Errorf("%v: NameOf = %s, want %s", tc.err, got, tc.name)
		}
		if got := tc.err.Error(); got != tc.msg {
			t.Errorf("message %q, want %q", got, tc.msg)
		}
		if got := Status(NameOf(tc.err)); got != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, got, tc.status)
		}
		if IsNotFound(tc.err) != tc.isNotFoundResult {
			t.Errorf("%v: IsNotFound = %v", tc.err, !tc.isNotFoundResult)
		}
	}
	be, ok := As(fmt.Errorf("ctx: %w", illegal()))
	if !ok || be.Name != NameAuthentication || be.Message != "Illegal token" || be.Cause == nil {
		t.Errorf("As(wrapped) = %+v, %v", be, ok)
	}
	if _, ok := As(errors.New("plain")); ok {
		t.Error("As found a Backstage error in a plain one")
	}
}
