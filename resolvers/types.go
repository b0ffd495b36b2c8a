package resolvers

import (
	"context"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// Entity is the part of a catalog entity sign-in needs (Backstage's catalog-model).
type Entity struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   EntityMetadata `json:"metadata"`
	Spec       map[string]any `json:"spec,omitempty"`
	Relations  []Relation     `json:"relations,omitempty"`
}

// EntityMetadata is metadata of an entity.
type EntityMetadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"` // "" means "default"
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Relation is a resolved relation such as {type: memberOf, targetRef: group:default/team}.
type Relation struct {
	Type      string `json:"type"`
	TargetRef string `json:"targetRef"`
}

// Catalog finds User entities for sign-in. Implementations: the local catalog
// (catalog.locations files) and the remote Backstage catalog REST API.
type Catalog interface {
	// FindUsers returns the User entities whose fields equal every key=value of filter,
	// with Backstage's filter keys ("spec.profile.email", "metadata.annotations.<key>",
	// "metadata.name", ...); matching is case-insensitive on values as in the catalog.
	FindUsers(ctx context.Context, filter map[string]string) ([]Entity, error)
	// GetEntityByRef returns the entity with that ref, or a NotFoundError.
	GetEntityByRef(ctx context.Context, ref EntityRef) (*Entity, error)
}

// EntityRef is a parsed entity reference (one implementation: jsrules).
type EntityRef = jsrules.EntityRef

// SignInInfo is what a resolver sees of a verified sign-in.
type SignInInfo struct {
	// ProviderID is the provider's id (auth.providers.<id>).
	ProviderID string
	// Email is the verified email ("" when the IdP gave none or marked it unverified).
	Email string
	// DisplayName and Picture are the rest of the profile ("" when absent).
	DisplayName string
	Picture     string
	// Claims are verified claims (ID token and userinfo for OAuth providers, the
	// verified header claims for proxy providers), e.g. preferred_username, groups.
	Claims map[string]any
}

// Identity is a resolved Backstage user: what the token issuer is asked to sign.
type Identity struct {
	UserEntityRef       string
	OwnershipEntityRefs []string
}

// Resolver resolves a sign-in to a Backstage identity. A resolver that cannot match
// returns a NotFoundError so the next configured resolver is tried.
type Resolver interface {
	Resolve(ctx context.Context, info SignInInfo) (Identity, error)
}
