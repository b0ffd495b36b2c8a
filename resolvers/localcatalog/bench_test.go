package localcatalog

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// BenchmarkFindUsersByEmail measures one sign-in lookup in a 10,000-user catalog.
func BenchmarkFindUsersByEmail(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	for i := range 10000 {
		if i > 0 {
			sb.WriteString("---\n")
		}
		sb.WriteString(userDoc(fmt.Sprintf("user-%d", i), fmt.Sprintf("user-%d@example.com", i), "team-a"))
	}
	write(b, dir, "org.yaml", sb.String())
	c, err := New(Options{Locations: []config.CatalogLocation{{Type: "file", Target: "org.yaml"}}, Rules: allowOrg, WorkDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	filter := map[string]string{"spec.profile.email": "USER-9999@example.com", "kind": "user"}
	b.ResetTimer()
	for b.Loop() {
		u, err := c.FindUsers(context.Background(), filter)
		if err != nil || len(u) != 1 {
			b.Fatalf("found %d, %v", len(u), err)
		}
	}
}
