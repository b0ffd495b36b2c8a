package resolvers

import (
	"testing"
)

func TestEntityRefOfAndOwnership(t *testing.T) {
	e := Entity{Kind: "User", Metadata: EntityMetadata{Name: "Alice"}, Relations: []Relation{
		{Type: "memberOf", TargetRef: "group:default/team-a"},
		{Type: "memberOf", TargetRef: "Group:Default/Team-A"}, // duplicate after canonicalisation
		{Type: "memberOf", TargetRef: "group:eng/team-b"},
		{Type: "memberOf", TargetRef: "user:default/not-a-group"},
		{Type: "ownerOf", TargetRef: "group:default/owned"},
		{Type: "hasMember", TargetRef: "group:default/x"},
	}}
	if got := EntityRefOf(e).String(); got != "user:default/alice" {
		t.Fatalf("EntityRefOf = %q", got)
	}
	got := OwnershipEntityRefs(e)
	want := []string{"user:default/alice", "group:default/team-a", "group:eng/team-b"}
	if len(got) != len(want) {
		t.Fatalf("ownership = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ownership = %v, want %v", got, want)
		}
	}
}
