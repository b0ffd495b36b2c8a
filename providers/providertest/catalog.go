package providertest

import (
	"context"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Catalog is an in-memory resolvers.Catalog for provider resolver tests. FindUsers
// matches kind, metadata.name, spec.profile.email and metadata.annotations.<key>
// filters case-insensitively, as the Backstage catalog does (so a resolver that needs
// an exact match must check it itself); GetEntityByRef matches the canonical ref.
type Catalog []resolvers.Entity

// FindUsers implements resolvers.Catalog.
func (c Catalog) FindUsers(_ context.Context, filter map[string]string) ([]resolvers.Entity, error) {
	var out []resolvers.Entity
	for _, u := range c {
		ok := true
		for k, v := range filter {
			var have string
			switch {
			case k == "kind":
				have = u.Kind
			case k == "metadata.name":
				have = u.Metadata.Name
			case k == "spec.profile.email":
				p, _ := u.Spec["profile"].(map[string]any)
				have, _ = p["email"].(string)
			case strings.HasPrefix(k, "metadata.annotations."):
				have = u.Metadata.Annotations[strings.TrimPrefix(k, "metadata.annotations.")]
			default:
				ok = false
			}
			ok = ok && strings.EqualFold(have, v)
		}
		if ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// GetEntityByRef implements resolvers.Catalog.
func (c Catalog) GetEntityByRef(_ context.Context, ref resolvers.EntityRef) (*resolvers.Entity, error) {
	for _, u := range c {
		if resolvers.EntityRefOf(u).String() == ref.String() {
			return &u, nil
		}
	}
	return nil, backstageerr.NotFound("no such entity")
}

// User is a User entity user:default/<name> with these annotations (nil: none),
// member of groups (refs such as group:default/team-a).
func User(name string, annotations map[string]string, groups ...string) resolvers.Entity {
	e := resolvers.Entity{Kind: "User", Metadata: resolvers.EntityMetadata{Name: name, Namespace: "default", Annotations: annotations}}
	for _, g := range groups {
		e.Relations = append(e.Relations, resolvers.Relation{Type: "memberOf", TargetRef: g})
	}
	return e
}
