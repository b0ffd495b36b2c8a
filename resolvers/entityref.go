package resolvers

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// DefaultNamespace is Backstage's DEFAULT_NAMESPACE.
const DefaultNamespace = "default"

// ParseEntityRef parses "[<kind>:][<namespace>/]<name>" exactly as Backstage's
// parseEntityRef does: a "/" before the first ":" makes the colon part of the name,
// empty parts are a TypeError, and a missing kind with no defaultKind is an Error.
// An empty defaultNamespace means "default". Case is preserved; String() lower-cases.
func ParseEntityRef(ref string, defaultKind, defaultNamespace string) (EntityRef, error) {
	if ref == "" {
		return EntityRef{}, backstageerr.Plain("Entity reference must not be empty")
	}
	if defaultNamespace == "" {
		defaultNamespace = DefaultNamespace
	}
	colon := strings.IndexByte(ref, ':')
	slash := strings.IndexByte(ref, '/')
	if slash != -1 && slash < colon {
		colon = -1
	}
	var kind, namespace string
	hasKind, hasNamespace := colon != -1, slash != -1
	if hasKind {
		kind = ref[:colon]
	}
	if hasNamespace {
		namespace = ref[colon+1 : slash]
	}
	name := ref[max(colon+1, slash+1):]
	if (hasKind && kind == "") || (hasNamespace && namespace == "") || name == "" {
		return EntityRef{}, backstageerr.New("TypeError",
			"Entity reference %q was not on the form [<kind>:][<namespace>/]<name>", ref)
	}
	if !hasKind {
		kind = defaultKind
	}
	if !hasNamespace {
		namespace = defaultNamespace
	}
	if kind == "" {
		return EntityRef{}, backstageerr.Plain(
			"Entity reference %s had missing or empty kind (e.g. did not start with \"component:\" or similar)", jsString(ref))
	}
	return EntityRef{Kind: kind, Namespace: namespace, Name: name}, nil
}

// String is Backstage's stringifyEntityRef: lower-case "kind:namespace/name", with the
// default namespace filled in.
func (r EntityRef) String() string {
	ns := r.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return strings.ToLower(r.Kind) + ":" + strings.ToLower(ns) + "/" + strings.ToLower(r.Name)
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

// jsString renders s as JavaScript's JSON.stringify would (no HTML escaping), for
// messages copied from Backstage.
func jsString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
