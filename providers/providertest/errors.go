package providertest

import (
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// WantError fails t unless err is of the Backstage class name and its message
// contains says.
func WantError(t testing.TB, err error, name, says string) {
	t.Helper()
	if err == nil || backstageerr.NameOf(err) != name || !strings.Contains(err.Error(), says) {
		t.Fatalf("error = %s %v, want %s containing %q", backstageerr.NameOf(err), err, name, says)
	}
}
