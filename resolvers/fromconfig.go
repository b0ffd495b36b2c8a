package resolvers

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// Option keys of the built-in resolvers.
const (
	optAllowedDomains   = "allowedDomains"
	optDangerouslyAllow = "dangerouslyAllowSignInWithoutUserInCatalog"
	optAnnotation       = "annotation"
)

// builtins maps resolver names to their option keys and constructors.
var builtins = map[string]struct {
	options []string
	build   func(cat Catalog, e *config.Reader) Resolver
}{
	NameEmailMatchingUserEntityProfileEmail: {
		options: []string{optAllowedDomains, optDangerouslyAllow},
		build: func(cat Catalog, e *config.Reader) Resolver {
			return EmailMatchingUserEntityProfileEmail(cat, readEmailOptions(e))
		},
	},
	NameEmailLocalPartMatchingUserEntityName: {
		options: []string{optAllowedDomains, optDangerouslyAllow},
		build: func(cat Catalog, e *config.Reader) Resolver {
			return EmailLocalPartMatchingUserEntityName(cat, readEmailOptions(e))
		},
	},
	NameEmailMatchingUserEntityAnnotation: {
		options: []string{optAllowedDomains, optDangerouslyAllow, optAnnotation},
		build: func(cat Catalog, e *config.Reader) Resolver {
			opts := AnnotationOptions{EmailOptions: readEmailOptions(e)}
			if e.Has(optAnnotation) {
				s, ok := e.Raw(optAnnotation).(string)
				if !ok || strings.TrimSpace(s) == "" {
					e.Problemf(optAnnotation, "Invalid sign-in resolver options, %s must be a non-empty string (an annotation key such as %s)", optAnnotation, DefaultEmailAnnotation)
				} else {
					opts.Annotation = strings.TrimSpace(s)
				}
			}
			return EmailMatchingUserEntityAnnotation(cat, opts)
		},
	},
}

// Available lists the resolver names FromConfig accepts, sorted.
func Available() []string {
	names := make([]string, 0, len(builtins))
	for k := range builtins {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// FromConfig builds the resolver chain of one provider environment from its signIn
// node (`auth.providers.<id>.<env>.signIn`): `resolvers: [{resolver: <name>, ...options}]`.
// Problems (unknown resolver name: "Sign-in resolver '<name>' is not available", options
// of the wrong type) are recorded in the Reader, so startup fails with every problem
// listed; unknown option keys are ignored, as zod's strip does (and logged). It returns
// (nil, false) when there is no signIn section or no resolvers: Backstage then signs no
// Backstage identity. cat may be nil (no catalog): lookups then answer NotFound, so only
// the dangerouslyAllowSignInWithoutUserInCatalog fallbacks can sign anyone in.
func FromConfig(signIn *config.Reader, cat Catalog, logger *slog.Logger) (Resolver, bool) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if signIn == nil || len(signIn.Keys()) == 0 {
		return nil, false
	}
	if !signIn.Has("resolvers") {
		signIn.Problemf("resolvers", "missing required config value (a list such as [{resolver: %s}])", NameEmailMatchingUserEntityProfileEmail)
		return nil, false
	}
	entries := signIn.List("resolvers")
	if len(entries) == 0 {
		logger.Warn("signIn.resolvers is empty: sign-in through this provider will not produce a Backstage identity", "config", signIn.Path())
		return nil, false
	}
	var chain []NamedResolver
	for _, e := range entries {
		name := e.RequiredString("resolver")
		if name == "" {
			continue
		}
		b, ok := builtins[name]
		if !ok {
			e.Problemf("resolver", "Sign-in resolver '%s' is not available (available: %s)", name, strings.Join(Available(), ", "))
			continue
		}
		known := map[string]bool{"resolver": true}
		for _, k := range b.options {
			known[k] = true
		}
		for _, k := range e.Keys() {
			if !known[k] {
				logger.Warn("ignoring unknown sign-in resolver option", "resolver", name, "option", k, "config", e.Path())
			}
		}
		if cat == nil {
			logger.Warn("sign-in resolver configured without a catalog: lookups find no user", "resolver", name, "config", e.Path())
		}
		chain = append(chain, NamedResolver{Name: name, Resolver: b.build(cat, e)})
	}
	// Even when every entry was invalid the chain is non-nil: the recorded problems
	// stop startup, and a caller that ignores them still gets no identity.
	return NewChain(chain...), true
}

// readEmailOptions validates allowedDomains and dangerouslyAllowSignInWithoutUserInCatalog.
func readEmailOptions(e *config.Reader) EmailOptions {
	var o EmailOptions
	if e.Has(optAllowedDomains) {
		items, ok := e.Raw(optAllowedDomains).([]any)
		if !ok {
			e.Problemf(optAllowedDomains, "Invalid sign-in resolver options, %s must be a list of strings, got %s", optAllowedDomains, config.TypeName(e.Raw(optAllowedDomains)))
		} else {
			o.AllowedDomains = make([]string, 0, len(items))
			for i, it := range items {
				s, ok := it.(string)
				if !ok || strings.TrimSpace(s) == "" {
					e.Problemf(fmt.Sprintf("%s[%d]", optAllowedDomains, i), "Invalid sign-in resolver options, must be a non-empty string (a domain such as example.com), got %s", config.TypeName(it))
					continue
				}
				o.AllowedDomains = append(o.AllowedDomains, strings.TrimSpace(s))
			}
			if len(items) == 0 {
				e.Problemf(optAllowedDomains, "Invalid sign-in resolver options, an empty list would reject every email; list the allowed domains or remove the key")
			}
		}
	}
	if e.Has(optDangerouslyAllow) {
		switch v := e.Raw(optDangerouslyAllow).(type) {
		case bool:
			o.DangerouslyAllowSignInWithoutUserInCatalog = v
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				o.DangerouslyAllowSignInWithoutUserInCatalog = true
			case "false":
			default:
				e.Problemf(optDangerouslyAllow, "Invalid sign-in resolver options, must be a boolean, got %q", v)
			}
		default:
			e.Problemf(optDangerouslyAllow, "Invalid sign-in resolver options, must be a boolean, got %s", config.TypeName(v))
		}
	}
	return o
}
