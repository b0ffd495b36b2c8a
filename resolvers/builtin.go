package resolvers

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// Names of the built-in resolvers, as used in signIn.resolvers[].resolver.
const (
	NameEmailMatchingUserEntityProfileEmail  = "emailMatchingUserEntityProfileEmail"
	NameEmailLocalPartMatchingUserEntityName = "emailLocalPartMatchingUserEntityName"
	NameEmailMatchingUserEntityAnnotation    = "emailMatchingUserEntityAnnotation"
)

// DefaultEmailAnnotation is the annotation emailMatchingUserEntityAnnotation matches
// when no `annotation` option is given. Backstage's Google and Microsoft modules
// hard-code google.com/email and microsoft.com/email; ours is configurable.
const DefaultEmailAnnotation = "spectrocloud.com/email"

// reEmail splits "joe+work@acme.com" into "joe", "+work", "@acme.com" (Backstage's regex).
var reEmail = regexp.MustCompile(`^([^@+]+)(\+[^@]+)?(@.*)$`)

// EmailOptions are the options shared by the email resolvers.
type EmailOptions struct {
	// AllowedDomains, when non-nil, lists the email domains that may sign in (compared
	// case-insensitively). Unlike Backstage, which accepts but ignores this option in
	// emailMatchingUserEntityProfileEmail, every email resolver here enforces it, and a
	// non-nil empty list allows no domain at all (as Backstage's `includes` check does).
	AllowedDomains []string
	// DangerouslyAllowSignInWithoutUserInCatalog signs in as user:default/<value>
	// (owning only itself) when no catalog user matches.
	DangerouslyAllowSignInWithoutUserInCatalog bool
	// MatchWithoutPlusTag (emailMatchingUserEntityProfileEmail only; ours) retries a
	// failed lookup with plus-addressing removed, as Backstage always does.
	MatchWithoutPlusTag bool
}

// AnnotationOptions configure emailMatchingUserEntityAnnotation.
type AnnotationOptions struct {
	EmailOptions
	// Annotation is the annotation key holding the email (default DefaultEmailAnnotation).
	Annotation string
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, info SignInInfo) (Identity, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, info SignInInfo) (Identity, error) {
	return f(ctx, info)
}

// attemptError wraps a NotFoundError with the lookups a built-in resolver tried, so
// that the chain can say which values were searched for.
type attemptError struct {
	err   error
	tried []string
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

func tried(err error, lookups ...string) error {
	if err == nil || !backstageerr.IsNotFound(err) {
		return err
	}
	return &attemptError{err: err, tried: lookups}
}

// checkDomain enforces allowedDomains; the domain is everything after the first "@".
func (o EmailOptions) checkDomain(email string) error {
	if o.AllowedDomains == nil {
		return nil
	}
	_, domain, _ := strings.Cut(email, "@")
	for _, d := range o.AllowedDomains {
		if strings.EqualFold(strings.TrimPrefix(d, "@"), domain) {
			return nil
		}
	}
	return backstageerr.NotAllowed(MsgDomainNotAllowed)
}

func (o EmailOptions) fallback(name string) *EntityRef {
	if !o.DangerouslyAllowSignInWithoutUserInCatalog {
		return nil
	}
	return &EntityRef{Name: name}
}

// EmailMatchingUserEntityProfileEmail finds the User whose spec.profile.email equals
// the sign-in email, exactly. Backstage retries without plus-addressing
// (alice+dev@x -> alice@x), which lets a different account alice+mallory@x sign in as
// alice wherever users or admins can choose addresses; here that retry happens only
// with MatchWithoutPlusTag, and then, as in Backstage, only the retry has the dangerous
// fallback user:default/<email without +tag>. Without it the fallback is
// user:default/<email>.
func EmailMatchingUserEntityProfileEmail(cat Catalog, opts EmailOptions) Resolver {
	return ResolverFunc(func(ctx context.Context, info SignInInfo) (Identity, error) {
		email := info.Email
		if email == "" {
			return Identity{}, backstageerr.Plain(MsgProfileWithoutEmail)
		}
		if err := opts.checkDomain(email); err != nil {
			return Identity{}, err
		}
		q := CatalogUserQuery{Filter: map[string]string{"spec.profile.email": email}}
		if !opts.MatchWithoutPlusTag {
			id, err := SignInWithCatalogUser(ctx, cat, q, opts.fallback(email))
			return id, tried(err, q.describe())
		}
		id, err := SignInWithCatalogUser(ctx, cat, q, nil)
		if err == nil || !backstageerr.IsNotFound(err) {
			return id, err
		}
		m := reEmail.FindStringSubmatch(email)
		if m == nil {
			return Identity{}, tried(err, q.describe())
		}
		noPlus := m[1] + m[3]
		if noPlus == email {
			// Backstage repeats the identical lookup here only to attach the fallback;
			// the answer cannot differ, so apply the fallback directly.
			if fb := opts.fallback(noPlus); fb != nil {
				return fallbackIdentity(*fb), nil
			}
			return Identity{}, tried(err, q.describe())
		}
		q2 := CatalogUserQuery{Filter: map[string]string{"spec.profile.email": noPlus}}
		id, err = SignInWithCatalogUser(ctx, cat, q2, opts.fallback(noPlus))
		return id, tried(err, q.describe(), q2.describe())
	})
}

// EmailLocalPartMatchingUserEntityName signs in as user:default/<local part of the
// email>. With AllowedDomains the domain must be listed, else a NotAllowedError
// "Sign-in user email is not from an allowed domain" (which stops the chain).
func EmailLocalPartMatchingUserEntityName(cat Catalog, opts EmailOptions) Resolver {
	return ResolverFunc(func(ctx context.Context, info SignInInfo) (Identity, error) {
		email := info.Email
		if email == "" {
			return Identity{}, backstageerr.Plain(MsgProfileWithoutEmail)
		}
		if err := opts.checkDomain(email); err != nil {
			return Identity{}, err
		}
		local, _, _ := strings.Cut(email, "@")
		if local == "" {
			return Identity{}, tried(backstageerr.NotFound(MsgUserNotFound+" (the email has an empty local part)"), "user:default/")
		}
		q := CatalogUserQuery{EntityRef: &EntityRef{Name: local}}
		id, err := SignInWithCatalogUser(ctx, cat, q, opts.fallback(local))
		return id, tried(err, q.describe())
	})
}

// EmailMatchingUserEntityAnnotation finds the User whose annotation (default
// spectrocloud.com/email) equals the sign-in email; the dangerous fallback is
// user:default/<email>.
func EmailMatchingUserEntityAnnotation(cat Catalog, opts AnnotationOptions) Resolver {
	key := opts.Annotation
	if key == "" {
		key = DefaultEmailAnnotation
	}
	return ResolverFunc(func(ctx context.Context, info SignInInfo) (Identity, error) {
		email := info.Email
		if email == "" {
			return Identity{}, backstageerr.Plain(MsgProfileWithoutEmail)
		}
		if err := opts.checkDomain(email); err != nil {
			return Identity{}, err
		}
		q := CatalogUserQuery{Annotations: map[string]string{key: email}}
		id, err := SignInWithCatalogUser(ctx, cat, q, opts.fallback(email))
		return id, tried(err, q.describe())
	})
}

// MsgUnresolvedIdentity is Backstage's message when every resolver answered NotFound
// (seen verbatim in the reference capture 59).
const MsgUnresolvedIdentity = "Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver."

// NamedResolver is one entry of a Chain.
type NamedResolver struct {
	Name     string
	Resolver Resolver
}

// Chain tries resolvers in order: a NotFoundError moves on to the next one, any other
// error (or success) is returned at once. When all answer NotFound the error is a plain
// Error with Backstage's message plus " Tried: <name> with <lookups>; ...", which
// says what was searched for (Backstage's message alone hides it).
type Chain struct {
	resolvers []NamedResolver
}

var _ Resolver = (*Chain)(nil)

// NewChain returns a chain of the given resolvers.
func NewChain(resolvers ...NamedResolver) *Chain {
	return &Chain{resolvers: append([]NamedResolver(nil), resolvers...)}
}

// Names lists the resolvers in order.
func (c *Chain) Names() []string {
	out := make([]string, len(c.resolvers))
	for i, r := range c.resolvers {
		out[i] = r.Name
	}
	return out
}

// Resolve implements Resolver.
func (c *Chain) Resolve(ctx context.Context, info SignInInfo) (Identity, error) {
	details := make([]string, 0, len(c.resolvers))
	for _, r := range c.resolvers {
		id, err := r.Resolver.Resolve(ctx, info)
		if err == nil {
			return id, nil
		}
		if !backstageerr.IsNotFound(err) {
			return Identity{}, err
		}
		var ae *attemptError
		if errors.As(err, &ae) && len(ae.tried) > 0 {
			details = append(details, r.Name+" with "+strings.Join(ae.tried, ", then "))
		} else {
			details = append(details, r.Name+": "+backstageerr.MessageOf(err))
		}
	}
	msg := MsgUnresolvedIdentity
	if len(details) > 0 {
		msg += " Tried: " + strings.Join(details, "; ") + "."
	}
	return Identity{}, &backstageerr.Error{Name: backstageerr.NameError, Message: msg, Cause: ErrUnresolvedIdentity}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
