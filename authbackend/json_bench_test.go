package authbackend

import (
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

func benchSignInResponse() signInResponse {
	return signInResponse{
		Profile:      providers.Profile{Email: "alice@example.com", DisplayName: "Alice Example", Picture: "https://example.com/a.png"},
		ProviderInfo: &providers.ProviderInfo{IDToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl", AccessToken: "at-0123456789abcdef0123456789abcdef", Scope: "openid profile email", ExpiresInSeconds: 3600},
		BackstageIdentity: &backstageIdentity{
			Token:            "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwOi8vbG9jYWxob3N0OjcwMDcvYXBpL2F1dGgiLCJzdWIiOiJ1c2VyOmRlZmF1bHQvYWxpY2UifQ.c2ln",
			Identity:         userIdentity{Type: "user", UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/team-a"}},
			ExpiresInSeconds: 3600,
		},
	}
}

func BenchmarkMarshalSignInResponse(b *testing.B) {
	v := benchSignInResponse()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jsrules.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}
