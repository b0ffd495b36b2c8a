package resolvers

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// Option keys shared by the email resolvers.
const (
	optAllowedDomains   = "allowedDomains"
	optDangerouslyAllow = "dangerouslyAllowSignInWithoutUserInCatalog"
	optAnnotation       = "annotation"
)

// Factory is a sign-in resolver that config can name in signIn.resolvers[].resolver.
// Provider modules register their own beside the common ones, by Backstage's names.
type Factory struct {
	// Name is the resolver's name in config.
	Name string
	// NewOptions returns a pointer to a new options struct for one config entry. Its
	// fields are decoded by config.Decode from the entry (every key but "resolver");
	// unknown keys are errors, because a misspelled option (allowedDomain) would
	// otherwise silently switch a check off.
	NewOptions func() Options
}

// Options are one resolver entry's decoded options.
type Options interface {
	// Validate reports semantic problems; sec is the entry, for paths.
	Validate(sec config.Section) config.Problems
	// Build binds the options to a catalog (nil: every lookup answers NotFound).
	Build(cat Catalog) Resolver
}

// Common returns the resolvers every provider offers: Backstage's
// commonSignInResolvers, plus our expression resolver, which works with any provider's
// profile and claims.
func Common() []Factory {
	return []Factory{
		{Name: NameEmailMatchingUserEntityProfileEmail, NewOptions: func() Options { return &profileEmailOptions{} }},
		{Name: NameEmailLocalPartMatchingUserEntityName, NewOptions: func() Options { return &localPartOptions{} }},
		Expression(),
	}
}

// EmailAnnotation is emailMatchingUserEntityAnnotation with a configurable annotation
// (default DefaultEmailAnnotation); the spectrocloud and oidc modules register it.
// Backstage's Google and Microsoft modules register resolvers of the same name with a
// fixed annotation.
func EmailAnnotation() Factory {
	return Factory{Name: NameEmailMatchingUserEntityAnnotation, NewOptions: func() Options { return &annotationOptions{} }}
}

// Set is the resolvers one provider offers, by name.
type Set map[string]Factory

// NewSet returns the common resolvers plus own; a resolver in own replaces a common one
// of the same name, as a module's later registration does in Backstage.
func NewSet(own ...Factory) Set {
	s := Set{}
	for _, f := range Common() {
		s[f.Name] = f
	}
	for _, f := range own {
		s[f.Name] = f
	}
	return s
}

// Names lists the resolver names, sorted.
func (s Set) Names() []string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// SignInConfig is a decoded signIn section: the resolver chain and the optional
// policy, not yet bound to a catalog.
type SignInConfig struct {
	Entries []Entry
	// Policy is signIn.policy (nil when absent).
	Policy *Policy
}

// Entry is one signIn.resolvers[] item.
type Entry struct {
	Name    string
	Options Options
	Section config.Section
}

// DecodeSignIn decodes and validates a provider environment's signIn section
// (`resolvers: [{resolver: <name>, ...options}]` and an optional `policy`) against the
// resolvers in set. Other keys are errors (a misspelled policy must not switch it off). It
// returns nil when there is no signIn section or its resolver list is empty (Backstage
// then signs no Backstage identity; an empty list is also reported as a warning), and
// every problem: an unknown resolver name ("Sign-in resolver '<name>' is not
// available"), options of the wrong type, unknown option keys.
func DecodeSignIn(signIn config.Section, set Set) (*SignInConfig, config.Problems) {
	if signIn.Empty() {
		return nil, nil
	}
	r := signIn.Reader()
	r.CheckKnownKeys("resolvers", "policy")
	policy, pps := decodePolicy(signIn.Sub("policy"))
	if r.Has("policy") && !signIn.IsObject("policy") {
		r.Problemf("policy", "must be an object (allow and deny rules), got %s", config.TypeName(r.Raw("policy")))
	}
	r.Add(pps...)
	if !r.Has("resolvers") {
		r.Problemf("resolvers", "missing required config value (a list such as [{resolver: %s}])", NameEmailMatchingUserEntityProfileEmail)
		return nil, r.Problems()
	}
	items := r.List("resolvers")
	if len(items) == 0 {
		if ps := r.Problems(); len(ps) > 0 {
			return nil, ps
		}
		r.Warnf("resolvers", "the list is empty: sign-in through this provider will not produce a Backstage identity")
		return nil, r.Problems()
	}
	sc := &SignInConfig{Policy: policy}
	var ps config.Problems
	for _, it := range items {
		name := it.RequiredString("resolver")
		if name == "" {
			continue
		}
		f, ok := set[name]
		if !ok {
			it.Problemf("resolver", "Sign-in resolver '%s' is not available (available: %s)", name, strings.Join(set.Names(), ", "))
			continue
		}
		opts := f.NewOptions()
		ps = append(ps, config.Decode(it.Section, opts, config.DecodeOptions{Unknown: config.UnknownKeysError, Known: []string{"resolver"}})...)
		ps = append(ps, opts.Validate(it.Section)...)
		sc.Entries = append(sc.Entries, Entry{Name: name, Options: opts, Section: it.Section})
	}
	ps = append(r.Problems(), ps...)
	sortProblems(ps)
	return sc, ps
}

// sortProblems orders problems by path so that the report follows the config file.
func sortProblems(ps config.Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
}

// BuildDeps are what a built signIn section uses.
type BuildDeps struct {
	// Catalog may be nil (no catalog): lookups then answer NotFound, so only the
	// dangerous fallbacks can sign anyone in.
	Catalog Catalog
	// Logger receives the sign-in audit records (nil: discarded).
	Logger *slog.Logger
}

// Build is BuildWith without an audit logger (records are discarded), for tests and
// tools.
func (sc *SignInConfig) Build(cat Catalog) Resolver { return sc.BuildWith(BuildDeps{Catalog: cat}) }

// BuildWith binds the chain to a catalog and puts the policy after it.
func (sc *SignInConfig) BuildWith(deps BuildDeps) Resolver {
	chain := make([]NamedResolver, 0, len(sc.Entries))
	for _, e := range sc.Entries {
		chain = append(chain, NamedResolver{Name: e.Name, Resolver: e.Options.Build(deps.Catalog)})
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &signIn{chain: NewChain(chain...), policy: sc.Policy, logger: logger}
}

// Names lists the configured resolvers in order.
func (sc *SignInConfig) Names() []string {
	out := make([]string, len(sc.Entries))
	for i, e := range sc.Entries {
		out[i] = e.Name
	}
	return out
}

// DomainList is allowedDomains: a non-empty list of non-empty domain names.
type DomainList []string

// DecodeConfig implements config.ValueDecoder with Backstage's "Invalid sign-in resolver
// options" wording.
func (d *DomainList) DecodeConfig(r *config.Reader, key string) {
	items, ok := r.Raw(key).([]any)
	if !ok {
		r.Problemf(key, "Invalid sign-in resolver options, %s must be a list of strings, got %s", key, config.TypeName(r.Raw(key)))
		return
	}
	if len(items) == 0 {
		r.Problemf(key, "Invalid sign-in resolver options, an empty list would reject every email; list the allowed domains or remove the key")
		return
	}
	out := make(DomainList, 0, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok || strings.TrimSpace(s) == "" {
			r.Problemf(fmt.Sprintf("%s[%d]", key, i), "Invalid sign-in resolver options, must be a non-empty string (a domain such as example.com), got %s", config.TypeName(it))
			continue
		}
		out = append(out, strings.TrimSpace(s))
	}
	*d = out
}

// Flag is a resolver's boolean option (true/false, or those strings).
type Flag bool

// DecodeConfig implements config.ValueDecoder.
func (f *Flag) DecodeConfig(r *config.Reader, key string) {
	switch v := r.Raw(key).(type) {
	case bool:
		*f = Flag(v)
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			*f = true
		case "false":
			*f = false
		default:
			r.Problemf(key, "Invalid sign-in resolver options, must be a boolean, got %q", v)
		}
	default:
		r.Problemf(key, "Invalid sign-in resolver options, must be a boolean, got %s", config.TypeName(v))
	}
}

// emailOptions are the options shared by the email resolvers.
type emailOptions struct {
	AllowedDomains DomainList `config:"allowedDomains"`
	Dangerously    Flag       `config:"dangerouslyAllowSignInWithoutUserInCatalog"`
}

func (o emailOptions) email() EmailOptions {
	var eo EmailOptions
	if o.AllowedDomains != nil {
		eo.AllowedDomains = []string(o.AllowedDomains)
	}
	eo.DangerouslyAllowSignInWithoutUserInCatalog = bool(o.Dangerously)
	return eo
}

func (o *emailOptions) Validate(config.Section) config.Problems { return nil }

type profileEmailOptions struct {
	emailOptions
	// MatchWithoutPlusTag is our option: Backstage always retries without the +tag.
	MatchWithoutPlusTag Flag `config:"matchEmailWithoutPlusTag"`
}

func (o *profileEmailOptions) Build(cat Catalog) Resolver {
	eo := o.email()
	eo.MatchWithoutPlusTag = bool(o.MatchWithoutPlusTag)
	return EmailMatchingUserEntityProfileEmail(cat, eo)
}

type localPartOptions struct{ emailOptions }

func (o *localPartOptions) Build(cat Catalog) Resolver {
	return EmailLocalPartMatchingUserEntityName(cat, o.email())
}

type annotationOptions struct {
	emailOptions
	Annotation *string `config:"annotation"`
}

func (o *annotationOptions) Validate(sec config.Section) config.Problems {
	if o.Annotation != nil && strings.TrimSpace(*o.Annotation) == "" {
		return config.Problems{sec.Problem(optAnnotation, "Invalid sign-in resolver options, %s must be a non-empty string (an annotation key such as %s)", optAnnotation, DefaultEmailAnnotation)}
	}
	return nil
}

func (o *annotationOptions) Build(cat Catalog) Resolver {
	opts := AnnotationOptions{EmailOptions: o.email()}
	if o.Annotation != nil {
		opts.Annotation = strings.TrimSpace(*o.Annotation)
	}
	return EmailMatchingUserEntityAnnotation(cat, opts)
}
