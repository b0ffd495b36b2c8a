package cfaccess

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// FuzzAuthenticateRequest: whatever the header and cookie hold, the answer is a
// classified error (never a panic), and only the mock's own tokens sign anyone in.
func FuzzAuthenticateRequest(f *testing.F) {
	e := newEnv(f, baseConfig())
	valid, _ := e.mock.CFAccessToken(mockvendor.CFAccessTokenRequest{Login: "alice"})
	forged, _ := e.mock.CFAccessToken(mockvendor.CFAccessTokenRequest{BadSignature: true})
	for _, s := range []string{valid, forged, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", valid + "x", valid[:len(valid)/2]} {
		f.Add(s, "")
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, header, cookie string) {
		r := httptest.NewRequest(http.MethodGet, "/api/auth/cfaccess/refresh", nil)
		r.Header["Cf-Access-Jwt-Assertion"] = []string{header}
		r.Header["Cookie"] = []string{"CF_Authorization=" + cookie}
		res, err := e.p.AuthenticateRequest(context.Background(), r)
		if err == nil {
			// The token read is the header, else the cookie as the request parses it.
			used := header
			if c, cerr := r.Cookie("CF_Authorization"); used == "" && cerr == nil {
				used = c.Value
			}
			if used != valid {
				t.Fatalf("signed in with header %q cookie %q: %+v", header, cookie, res.Profile)
			}
			return
		}
		switch backstageerr.NameOf(err) {
		case backstageerr.NameAuthentication, backstageerr.NameServiceUnavailable:
		default:
			t.Fatalf("unclassified error %s: %v", backstageerr.NameOf(err), err)
		}
	})
}
