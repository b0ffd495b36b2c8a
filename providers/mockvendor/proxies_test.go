package mockvendor_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// The proxy personalities' signatures verify with the keys they serve, in the
// vendor's layout, and only those signed with the published key do.
func TestProxyKeyServers(t *testing.T) {
	for _, tc := range []struct {
		p       mockvendor.Personality
		fetcher func(base string) (*keyfetch.Fetcher, error)
	}{
		{mockvendor.GCPIAP, func(base string) (*keyfetch.Fetcher, error) {
			return keyfetch.NewJWKS(base+mockvendor.IAPJWKPath, keyfetch.Options{})
		}},
		{mockvendor.AWSALB, func(base string) (*keyfetch.Fetcher, error) {
			return keyfetch.NewPEMPerKID(func(kid string) string { return base + "/" + kid }, keyfetch.Options{RefetchBurst: 10})
		}},
		{mockvendor.OAuth2ProxyIdP, func(base string) (*keyfetch.Fetcher, error) {
			return keyfetch.NewJWKS(base+mockvendor.OIDCJWKSPath, keyfetch.Options{})
		}},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			m := mockvendor.New(mockvendor.Options{Personality: tc.p})
			ts := httptest.NewServer(m.Handler())
			defer ts.Close()
			f, err := tc.fetcher(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			for key, ok := range map[mockvendor.SignKey]bool{mockvendor.SignPublished: true, mockvendor.SignForged: false, mockvendor.SignUnknownKey: false} {
				for _, pad := range []bool{false, true} {
					tok, err := m.Sign(mockvendor.SignRequest{Claims: map[string]any{"sub": "x"}, Header: map[string]any{"signer": "arn"}, Key: key, Pad: pad})
					if err != nil {
						t.Fatal(err)
					}
					_, err = f.Verify(context.Background(), tok)
					if (err == nil) != ok {
						t.Errorf("key %q pad %v: verify = %v", key, pad, err)
					}
				}
			}
		})
	}
	// The kid -> PEM map google-auth-library reads, and the sign endpoint.
	m := mockvendor.New(mockvendor.Options{Personality: mockvendor.GCPIAP})
	ts := httptest.NewServer(m.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + mockvendor.IAPPEMPath)
	if err != nil {
		t.Fatal(err)
	}
	var pems map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&pems)
	resp.Body.Close()
	if !strings.HasPrefix(pems[mockvendor.IAPKID], "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("PEM map %v", pems)
	}
	resp, err = http.Post(ts.URL+"/_mock/sign", "application/json", strings.NewReader(`{"claims":{"sub":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if strings.Count(out.Token, ".") != 2 {
		t.Errorf("sign: %q", out.Token)
	}
}
