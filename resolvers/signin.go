package resolvers

import (
	"context"
	"errors"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// Messages of Backstage's findCatalogUser, copied verbatim.
const (
	MsgUserNotFound        = "User not found"
	MsgMultipleMatches     = "User lookup resulted in multiple matches"
	MsgInvalidLookupQuery  = "Invalid user lookup query"
	MsgProfileWithoutEmail = "Login failed, user profile does not contain an email"
	MsgDomainNotAllowed    = "Sign-in user email is not from an allowed domain"
)

// CatalogUserQuery is Backstage's AuthResolverCatalogUserQuery: exactly one of
// EntityRef, Annotations or Filter is set.
type CatalogUserQuery struct {
	// EntityRef is looked up by name; an empty Kind means "User", an empty Namespace
	// "default" (Backstage's compound-ref form, so ":" and "/" in Name stay literal).
	EntityRef *EntityRef
	// Annotations become the filter {kind: user, metadata.annotations.<k>: v}.
	Annotations map[string]string
	// Filter is passed to the catalog, with kind=user added when it has no kind key.
	Filter map[string]string
}

// describe renders the query for the "Tried:" detail of sign-in failures.
func (q CatalogUserQuery) describe() string {
	switch {
	case q.EntityRef != nil:
		return q.entityRef().String()
	case q.Annotations != nil:
		return describeFilter(annotationFilter(q.Annotations))
	default:
		return describeFilter(q.Filter)
	}
}

func (q CatalogUserQuery) entityRef() EntityRef {
	r := *q.EntityRef
	if r.Kind == "" {
		r.Kind = "User"
	}
	if r.Namespace == "" {
		r.Namespace = DefaultNamespace
	}
	return r
}

func annotationFilter(annotations map[string]string) map[string]string {
	f := make(map[string]string, len(annotations)+1)
	f["kind"] = "user"
	for k, v := range annotations {
		f["metadata.annotations."+k] = v
	}
	return f
}

// describeFilter lists key=value pairs without the kind=user every lookup has.
func describeFilter(f map[string]string) string {
	keys := sortedKeys(f)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if strings.EqualFold(k, "kind") && strings.EqualFold(f[k], "user") {
			continue
		}
		parts = append(parts, k+"="+f[k])
	}
	return strings.Join(parts, ",")
}

// FindCatalogUser is Backstage's ctx.findCatalogUser: zero matches is a NotFoundError
// "User not found", more than one a ConflictError "User lookup resulted in multiple
// matches". Catalog errors are returned as they are.
func FindCatalogUser(ctx context.Context, cat Catalog, q CatalogUserQuery) (*Entity, error) {
	if cat == nil {
		return nil, backstageerr.NotFound(MsgUserNotFound + " (no catalog is configured)")
	}
	var users []Entity
	switch {
	case q.EntityRef != nil:
		e, err := cat.GetEntityByRef(ctx, q.entityRef())
		if err != nil {
			if backstageerr.IsNotFound(err) {
				// Backstage's catalog client answers undefined on 404, hence this message.
				return nil, backstageerr.NotFound(MsgUserNotFound)
			}
			return nil, err
		}
		if e == nil {
			return nil, backstageerr.NotFound(MsgUserNotFound)
		}
		return e, nil
	case q.Annotations != nil:
		found, err := cat.FindUsers(ctx, annotationFilter(q.Annotations))
		if err != nil {
			return nil, err
		}
		users = found
	case q.Filter != nil:
		f := make(map[string]string, len(q.Filter)+1)
		hasKind := false
		for k, v := range q.Filter {
			f[k] = v
			hasKind = hasKind || strings.EqualFold(k, "kind")
		}
		if !hasKind {
			f["kind"] = "user"
		}
		found, err := cat.FindUsers(ctx, f)
		if err != nil {
			return nil, err
		}
		users = found
	default:
		return nil, backstageerr.Input(MsgInvalidLookupQuery)
	}
	switch len(users) {
	case 0:
		return nil, backstageerr.NotFound(MsgUserNotFound)
	case 1:
		return &users[0], nil
	default:
		return nil, backstageerr.Conflict(MsgMultipleMatches)
	}
}

// OwnershipEntityRefs is Backstage's default ownership resolution: the entity's own
// canonical ref followed by the targets of its direct memberOf relations that are
// groups, canonical and de-duplicated. Nothing is transitive.
func OwnershipEntityRefs(e Entity) []string {
	refs := []string{EntityRefOf(e).String()}
	for _, rel := range e.Relations {
		if rel.Type != "memberOf" {
			continue
		}
		if t := CanonicalRef(rel.TargetRef); strings.HasPrefix(t, "group:") {
			refs = append(refs, t)
		}
	}
	return dedupe(refs)
}

// SignInWithCatalogUser is Backstage's ctx.signInWithCatalogUser without the token
// issuance: it finds the user and returns its identity. When the lookup is a
// NotFoundError and fallback is non-nil (dangerousEntityRefFallback), the identity is
// the fallback ref (empty Kind means User, empty Namespace "default") owning only itself.
func SignInWithCatalogUser(ctx context.Context, cat Catalog, q CatalogUserQuery, fallback *EntityRef) (Identity, error) {
	e, err := FindCatalogUser(ctx, cat, q)
	if err != nil {
		if fallback == nil || !backstageerr.IsNotFound(err) {
			return Identity{}, err
		}
		return fallbackIdentity(*fallback), nil
	}
	return Identity{UserEntityRef: EntityRefOf(*e).String(), OwnershipEntityRefs: OwnershipEntityRefs(*e)}, nil
}

// fallbackIdentity is the dangerousEntityRefFallback identity: the ref (Kind default
// User, Namespace default "default") owning only itself.
func fallbackIdentity(ref EntityRef) Identity {
	s := CatalogUserQuery{EntityRef: &ref}.entityRef().String()
	return Identity{UserEntityRef: s, OwnershipEntityRefs: []string{s}}
}

// ErrUnresolvedIdentity is the cause of the error a Chain returns when every resolver
// answered NotFound; test with errors.Is.
var ErrUnresolvedIdentity = errors.New("no sign-in resolver matched a catalog user")

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
