package authbackend

import (
	"encoding/json"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// TestReportedScope: providerInfo.scope is Backstage's CookieScopeManager's. A
// persisting provider reports the scope it asked for, whatever the IdP answers; any
// other provider reports the IdP's answer as it is (split on [\s,|], space-joined, not
// deduplicated), at sign-in and at refresh, without the required scopes the IdP left
// out: Entra ID answers "email openid User.Read" though offline_access and user.read
// were asked for, and Node passes that on.
func TestReportedScope(t *testing.T) {
	entra := []string{"email", "openid", "offline_access", "user.read"}
	for _, tc := range []struct {
		name                 string
		spec                 providers.ScopeSpec
		signIn, refresh      string // the IdP's answers
		wantSignIn, wantRefr string
	}{
		{"entra", providers.ScopeSpec{Required: entra}, "email openid User.Read", "email openid User.Read",
			"email openid User.Read", "email openid User.Read"},
		{"comma-separated answer", providers.ScopeSpec{Required: []string{"read_user"}, Additional: []string{"api"}},
			"read_user,openid|openid", "", "read_user openid openid", ""},
		{"persisting", providers.ScopeSpec{Required: []string{"read:user"}, Additional: []string{"repo"}, Persist: true},
			"read:user", "public_repo", "user:email read:user repo", "user:email read:user repo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *Options, p *fakeProvider) {
				p.scopes, p.idpScope, p.idpRefreshScope = tc.spec, tc.signIn, tc.refresh
			})
			set, rec := h.signIn(t, "scope=user:email&env=development")
			var msg struct {
				Response signInResponse `json:"response"`
			}
			if err := json.Unmarshal([]byte(parseFramePage(t, rec).raw), &msg); err != nil {
				t.Fatal(err)
			}
			if got := msg.Response.ProviderInfo.Scope; got != tc.wantSignIn {
				t.Errorf("sign-in scope = %q, want %q", got, tc.wantSignIn)
			}
			rr := h.do(req{target: "/api/auth/spectrocloud/refresh?env=development", headers: xrw,
				cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
			var resp signInResponse
			if err := json.Unmarshal(rr.Body.Bytes(), &resp); err != nil || rr.Code != 200 {
				t.Fatalf("refresh: %d %s", rr.Code, rr.Body.String())
			}
			if got := resp.ProviderInfo.Scope; got != tc.wantRefr {
				t.Errorf("refresh scope = %q, want %q", got, tc.wantRefr)
			}
		})
	}
}
