package azureeasyauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// FuzzAuthenticateRequest: whatever the Easy Auth headers hold, the answer is a
// classified error (never a panic), and only the mock's own token with a principal
// that agrees signs anyone in.
func FuzzAuthenticateRequest(f *testing.F) {
	e := newEnv(f, nil)
	h := e.headers(f, mockvendor.EasyAuthRequest{Login: "alice"})
	valid, principal, oid := h[mockvendor.EasyAuthIDTokenHeader], h[mockvendor.EasyAuthPrincipalHeader], h[mockvendor.EasyAuthPrincipalIDHeader]
	f.Add(valid, principal, oid)
	f.Add(valid, "e30=", "")
	f.Add(valid, "%%%", oid)
	f.Add("a.b.c", principal, oid)
	f.Add("eyJhbGciOiJub25lIn0.eyJ2ZXIiOiIyLjAifQ.", "", "")
	f.Add(valid[:len(valid)/2], "", "")
	f.Fuzz(func(t *testing.T, idToken, principalHdr, principalID string) {
		r := httptest.NewRequest(http.MethodGet, "/api/auth/azureEasyAuth/refresh", nil)
		r.Header[http.CanonicalHeaderKey(IDTokenHeader)] = []string{idToken}
		r.Header[http.CanonicalHeaderKey(PrincipalHeader)] = []string{principalHdr}
		r.Header[http.CanonicalHeaderKey(PrincipalIDHeader)] = []string{principalID}
		res, err := e.p.AuthenticateRequest(context.Background(), r)
		if err == nil {
			if idToken != valid {
				t.Fatalf("signed in with ID token %q: %+v", idToken, res.Profile)
			}
			return
		}
		switch backstageerr.NameOf(err) {
		case backstageerr.NameAuthentication, backstageerr.NameServiceUnavailable:
		case backstageerr.NameError:
			if err.Error() != MsgNotV2 {
				t.Fatalf("plain error %v", err)
			}
		default:
			t.Fatalf("unclassified error %s: %v", backstageerr.NameOf(err), err)
		}
	})
}
