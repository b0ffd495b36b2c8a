package proxyjwt

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

func TestCheckClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	v := &Verifier{Now: func() time.Time { return now }, Skew: 10 * time.Second}
	n := now.Unix()
	for _, tc := range []struct {
		name   string
		claims map[string]any
		c      Checks
		says   string
	}{
		{"ok", map[string]any{"exp": n + 60, "iat": n, "iss": "i", "aud": "a"}, Checks{Issuer: "i", Audience: "a", RequireExp: true, RequireIat: true}, ""},
		{"aud array", map[string]any{"exp": n + 60, "aud": []any{"x", "a"}}, Checks{Audience: "a"}, ""},
		{"aud array without", map[string]any{"exp": n + 60, "aud": []any{"x"}}, Checks{Audience: "a"}, "audience"},
		{"fractional exp within skew", map[string]any{"exp": float64(n) - 9.5}, Checks{}, ""},
		{"exp past skew", map[string]any{"exp": n - 10}, Checks{}, "expired"},
		{"exp a string", map[string]any{"exp": "soon"}, Checks{}, "not a number"},
		{"exp huge", map[string]any{"exp": 1e300}, Checks{}, "out of range"},
		{"nbf ahead", map[string]any{"nbf": n + 60}, Checks{}, "not valid yet"},
		{"iat ahead", map[string]any{"iat": n + 60}, Checks{}, "issued in the future"},
		{"lifetime", map[string]any{"exp": n + 7200}, Checks{MaxLifetime: time.Hour}, "too far"},
		{"missing exp", map[string]any{}, Checks{RequireExp: true}, "no expiry"},
		{"missing iat", map[string]any{}, Checks{RequireIat: true}, "no issue time"},
		{"iss", map[string]any{"iss": "<b>x</b>"}, Checks{Issuer: "i"}, `the token issuer "bx/b" is not "i"`},
	} {
		err := v.checkClaims(&Token{Claims: tc.claims}, tc.c)
		if tc.says == "" && err != nil || tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.says)
		}
	}
}

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
	if backstageerr.NameOf(err) != backstageerr.NameAuthentication || err.Error() != "Exception occurred during JWT processing; caused by Error: the token signature is invalid" {
		t.Errorf("refused: %v", err)
	}
}
