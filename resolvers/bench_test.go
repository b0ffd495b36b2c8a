package resolvers_test

import (
	"context"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// BenchmarkSignIn compares each built-in resolver with the expression resolver that
// replaces it, over the local catalog, with a typical ID token's claims: the difference
// is what an expression costs a sign-in (the budget is 50µs).
func BenchmarkSignIn(b *testing.B) {
	cat := newLocal(b)
	info := resolvers.SignInInfo{ProviderID: "oidc", Email: "alice@example.com", DisplayName: "Alice Smith", Claims: map[string]any{
		"iss": "https://idp.example.com", "sub": "0f6c1a52-7e1b-4c2e-9d0e-2f5f9f0b1c3d", "aud": "backstage", "exp": float64(1767225600),
		"iat": float64(1767222000), "auth_time": float64(1767222000), "nonce": "n-0S6_WzA2Mj", "email": "alice@example.com",
		"email_verified": true, "name": "Alice Smith", "given_name": "Alice", "family_name": "Smith",
		"preferred_username": "alice", "groups": []any{"team-a", "team-b", "developers", "vpn-users", "backstage-users"},
	}}
	for _, bc := range []struct {
		name  string
		entry entry
	}{
		{"builtin/profileEmail", entry{"resolver": profile}},
		{"expression/profileEmail", entry{"resolver": expr, "filter": `{"spec.profile.email": profile.email}`}},
		{"builtin/localPart", entry{"resolver": localPart}},
		{"expression/localPart", entry{"resolver": expr, "entityRef": `profile.email.split("@")[0]`}},
		{"expression/localPart+domain+groups", entry{"resolver": expr,
			"deny":      `!profile.email.endsWith("@example.com")`,
			"entityRef": `"user:default/" + profile.email.split("@")[0].lowerAscii()`,
			"ownership": `claims.?groups.orValue([]).map(g, "group:default/" + g)`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := chain(b, cat, bc.entry)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				id, err := r.Resolve(ctx, info)
				if err != nil || id.UserEntityRef != "user:default/alice" {
					b.Fatalf("%+v %v", id, err)
				}
			}
		})
	}
}
