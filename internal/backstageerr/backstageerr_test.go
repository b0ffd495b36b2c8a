package backstageerr

import (
	"errors"
	"fmt"
	"testing"
)

// named stands in for a package's own error type that carries a Backstage class.
type named struct{ msg string }

func (n named) Error() string              { return n.msg }
func (n named) BackstageErrorName() string { return NameAuthentication }

func TestClassesAndMessages(t *testing.T) {
	for _, tc := range []struct {
		err              error
		name, msg        string
		status           int
		isNotFoundResult bool
	}{
		{Input("bad %s", "x"), NameInput, "bad x", 400, false},
		{fmt.Errorf("lookup: %w", NotFound("User not found")), NameNotFound, "lookup: User not found", 404, true},
		{named{"Illegal token"}, NameAuthentication, "Illegal token", 401, false},
		{fmt.Errorf("verify: %w", named{"Illegal token"}), NameAuthentication, "verify: Illegal token", 401, false},
		{errors.New("boom"), NameError, "boom", 500, false},
		{Wrap(NameAuthentication, Input("Missing session cookie"), "Refresh failed"), NameAuthentication,
			"Refresh failed; caused by InputError: Missing session cookie", 401, false},
		{Wrap(NameAuthentication, named{"Illegal token"}, "Refresh failed"), NameAuthentication,
			"Refresh failed; caused by AuthenticationError: Illegal token", 401, false},
		{Wrap(NameAuthentication, errors.New("x"), "Refresh failed"), NameAuthentication,
			"Refresh failed; caused by Error: x", 401, false},
		{ServiceUnavailable("down"), NameServiceUnavailable, "down", 503, false},
		{NotImplemented("Not implemented"), NameNotImplemented, "Not implemented", 501, false},
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
	be, ok := As(fmt.Errorf("ctx: %w", named{"Illegal token"}))
	if !ok || be.Name != NameAuthentication || be.Message != "Illegal token" {
		t.Errorf("As(named) = %+v, %v", be, ok)
	}
}
