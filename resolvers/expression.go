package resolvers

import (
	"context"
	"fmt"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/celexpr"
)

// NameExpression is our configurable resolver (Backstage has none by that name).
const NameExpression = "expression"

// MaxOwnershipRefs is how many entity refs the ownership expression may add; more is an
// error rather than a silently truncated (or oversized) token.
const MaxOwnershipRefs = 100

// MsgSignInDenied is the message of a deny expression without denyMessage.
const MsgSignInDenied = "Sign-in denied: this account is not allowed to sign in"

// Option keys of the expression resolver.
const (
	optDeny        = "deny"
	optDenyMessage = "denyMessage"
	optFilter      = "filter"
	optEntityRef   = "entityRef"
	optFallback    = "dangerousEntityRefFallback"
	optOwnership   = "ownership"
)

// Expression is the expression resolver: every option is a CEL expression over
// provider, profile and claims (package celexpr), compiled when the config is validated.
func Expression() Factory {
	return Factory{Name: NameExpression, NewOptions: func() Options { return &expressionOptions{} }}
}

type expressionOptions struct {
	Deny        *string `config:"deny"`
	DenyMessage *string `config:"denyMessage"`
	Filter      *string `config:"filter"`
	EntityRef   *string `config:"entityRef"`
	Fallback    *string `config:"dangerousEntityRefFallback"`
	Ownership   *string `config:"ownership"`

	path                                                      string
	deny, denyMessage, filter, entityRef, fallback, ownership *celexpr.Program
}

// compileOption compiles one option's expression, reporting a problem at its path that
// names the position in the expression.
func compileOption(env *celexpr.Env, sec config.Section, key string, src *string, want celexpr.Want, ps *config.Problems) *celexpr.Program {
	if src == nil {
		return nil
	}
	p, err := env.Compile(*src, want, celexpr.DefaultLimits)
	if err != nil {
		*ps = append(*ps, sec.Problem(key, "Invalid sign-in resolver options, the %s expression does not compile: %v", key, err))
		return nil
	}
	return p
}

func (o *expressionOptions) Validate(sec config.Section) config.Problems {
	var ps config.Problems
	o.path = sec.Path()
	env := celexpr.SignIn()
	o.deny = compileOption(env, sec, optDeny, o.Deny, celexpr.WantBool, &ps)
	o.denyMessage = compileOption(env, sec, optDenyMessage, o.DenyMessage, celexpr.WantString, &ps)
	o.filter = compileOption(env, sec, optFilter, o.Filter, celexpr.WantStringMap, &ps)
	o.entityRef = compileOption(env, sec, optEntityRef, o.EntityRef, celexpr.WantString, &ps)
	o.fallback = compileOption(env, sec, optFallback, o.Fallback, celexpr.WantString, &ps)
	o.ownership = compileOption(env, sec, optOwnership, o.Ownership, celexpr.WantStringList, &ps)
	// Presence, not a decoded value: a value of the wrong type is already reported.
	hasFilter, hasRef := sec.Has(optFilter), sec.Has(optEntityRef)
	switch {
	case hasFilter && hasRef:
		ps = append(ps, sec.Problem(optEntityRef, "Invalid sign-in resolver options, give either %s or %s, not both", optFilter, optEntityRef))
	case !hasFilter && !hasRef:
		ps = append(ps, sec.Problem("", "Invalid sign-in resolver options, the %s resolver needs a %s (a catalog query) or an %s expression", NameExpression, optFilter, optEntityRef))
	}
	if sec.Has(optDenyMessage) && !sec.Has(optDeny) {
		ps = append(ps, sec.Problem(optDenyMessage, "Invalid sign-in resolver options, %s needs a %s expression", optDenyMessage, optDeny))
	}
	return ps
}

func (o *expressionOptions) Build(cat Catalog) Resolver {
	return &expressionResolver{o: o, cat: cat}
}

type expressionResolver struct {
	o   *expressionOptions
	cat Catalog
}

// Denial is the cause of a sign-in that configuration refused (a deny expression, a
// sign-in policy): errors.As finds it, and the audit record carries Rule and Reason.
type Denial struct {
	// Rule is the config path of what refused, e.g. auth.providers.oidc.development.signIn.resolvers[0].deny.
	Rule string
	// Reason says why, for the audit log (it may name groups the user does not see).
	Reason string
}

func (d *Denial) Error() string { return d.Rule + ": " + d.Reason }

func denied(msg string, d *Denial) error {
	return &backstageerr.Error{Name: backstageerr.NameNotAllowed, Message: msg, Cause: d}
}

// evalError is what the user sees when an expression fails: which expression, where in
// it, and CEL's reason. No token is issued.
func (r *expressionResolver) evalError(key string, err error) error {
	return &backstageerr.Error{
		Name:    backstageerr.NameError,
		Message: fmt.Sprintf("Sign-in failed: the expression %s.%s could not be evaluated: %v", r.o.path, key, err),
		Cause:   err,
	}
}

// Resolve implements Resolver: deny, then the catalog lookup (filter or entityRef),
// then, when no user matched, the dangerous fallback, then the ownership refs.
func (r *expressionResolver) Resolve(ctx context.Context, info SignInInfo) (Identity, error) {
	o := r.o
	act := celexpr.NewActivation(inputOf(info))
	if o.deny != nil {
		deny, err := o.deny.Bool(ctx, act)
		if err != nil {
			return Identity{}, r.evalError(optDeny, err)
		}
		if deny {
			msg := MsgSignInDenied
			if o.denyMessage != nil {
				s, err := o.denyMessage.String(ctx, act)
				if err != nil {
					return Identity{}, r.evalError(optDenyMessage, err)
				}
				if s = strings.TrimSpace(s); s != "" {
					msg = s
				}
			}
			return Identity{}, denied(msg, &Denial{Rule: o.path + "." + optDeny, Reason: "the deny expression is true"})
		}
	}
	q, err := r.query(ctx, act)
	if err != nil {
		return Identity{}, err
	}
	var id Identity
	e, err := FindCatalogUser(ctx, r.cat, q)
	switch {
	case err == nil:
		id = Identity{UserEntityRef: EntityRefOf(*e).String(), OwnershipEntityRefs: OwnershipEntityRefs(*e)}
	case backstageerr.IsNotFound(err) && o.fallback != nil:
		ref, ferr := r.userRef(ctx, act, optFallback, o.fallback)
		if ferr != nil {
			return Identity{}, ferr
		}
		if ref == nil {
			return Identity{}, tried(err, q.describe())
		}
		id = fallbackIdentity(*ref)
	default:
		return Identity{}, tried(err, q.describe())
	}
	if o.ownership != nil {
		extra, err := o.ownership.StringList(ctx, act, MaxOwnershipRefs)
		if err != nil {
			return Identity{}, r.evalError(optOwnership, err)
		}
		for i, s := range extra {
			ref, err := ParseEntityRef(strings.TrimSpace(s), "Group", DefaultNamespace)
			if err != nil {
				return Identity{}, r.evalError(optOwnership, fmt.Errorf("element %d: %w", i, err))
			}
			id.OwnershipEntityRefs = append(id.OwnershipEntityRefs, ref.String())
		}
		id.OwnershipEntityRefs = dedupe(id.OwnershipEntityRefs)
	}
	return id, nil
}

// query evaluates filter or entityRef. An empty result means "no lookup for this
// sign-in": a NotFoundError, so the chain tries the next resolver.
func (r *expressionResolver) query(ctx context.Context, act *celexpr.Activation) (CatalogUserQuery, error) {
	if r.o.filter != nil {
		f, err := r.o.filter.StringMap(ctx, act)
		if err != nil {
			return CatalogUserQuery{}, r.evalError(optFilter, err)
		}
		if len(f) == 0 {
			return CatalogUserQuery{}, backstageerr.NotFound(MsgUserNotFound + " (the filter expression gave no lookup)")
		}
		return CatalogUserQuery{Filter: f}, nil
	}
	ref, err := r.userRef(ctx, act, optEntityRef, r.o.entityRef)
	if err != nil {
		return CatalogUserQuery{}, err
	}
	if ref == nil {
		return CatalogUserQuery{}, backstageerr.NotFound(MsgUserNotFound + " (the entityRef expression gave no lookup)")
	}
	return CatalogUserQuery{EntityRef: ref}, nil
}

// userRef evaluates an entity-ref expression: "" is nil (no ref); otherwise the string
// is parsed like any entity ref (kind default User, namespace default "default") and
// must be a User, so that a claim cannot sign someone in as a group.
func (r *expressionResolver) userRef(ctx context.Context, act *celexpr.Activation, key string, p *celexpr.Program) (*EntityRef, error) {
	s, err := p.String(ctx, act)
	if err != nil {
		return nil, r.evalError(key, err)
	}
	if s = strings.TrimSpace(s); s == "" {
		return nil, nil
	}
	ref, err := ParseEntityRef(s, "User", DefaultNamespace)
	if err != nil {
		return nil, r.evalError(key, err)
	}
	if !strings.EqualFold(ref.Kind, "user") {
		return nil, r.evalError(key, fmt.Errorf("%q is a %s, not a User entity ref", s, ref.Kind))
	}
	return &ref, nil
}
