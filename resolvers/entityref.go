package resolvers

import "github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"

// DefaultNamespace is Backstage's DEFAULT_NAMESPACE.
const DefaultNamespace = jsrules.DefaultNamespace

// ParseEntityRef is catalog-model's parseEntityRef (see jsrules.ParseEntityRef).
func ParseEntityRef(ref string, defaultKind, defaultNamespace string) (EntityRef, error) {
	return jsrules.ParseEntityRef(ref, defaultKind, defaultNamespace)
}

// EntityRefOf is Backstage's getCompoundEntityRef: the entity's kind, namespace
// (default "default") and name.
func EntityRefOf(e Entity) EntityRef {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return EntityRef{Kind: e.Kind, Namespace: ns, Name: e.Metadata.Name}
}

// CanonicalRef parses ref (no default kind) and stringifies it; a ref that does not
// parse is returned unchanged, as Backstage's issueToken does for `sub`.
func CanonicalRef(ref string) string {
	r, err := ParseEntityRef(ref, "", "")
	if err != nil {
		return ref
	}
	return r.String()
}
