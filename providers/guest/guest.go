package guest

import (
	"context"
	"net/http"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// DefaultUserEntityRef is Backstage's default guest user.
const DefaultUserEntityRef = "user:development/guest"

// NotAllowedMessage is Backstage's refusal outside development.
const NotAllowedMessage = "The guest provider cannot be used outside of a development environment unless 'auth.providers.guest.dangerouslyAllowOutsideDevelopment' is enabled"

// Config is auth.providers.guest (flat: a proxy provider has no environments).
type Config struct {
	UserEntityRef string `config:"userEntityRef"`
	// OwnershipEntityRefs are used when the user is not in the catalog; nil means
	// [userEntityRef].
	OwnershipEntityRefs                []string `config:"ownershipEntityRefs"`
	DangerouslyAllowOutsideDevelopment bool     `config:"dangerouslyAllowOutsideDevelopment"`

	ref resolvers.EntityRef
}

// Module registers the guest provider: a proxy-style provider that signs in one
// configured user, only in development unless dangerouslyAllowOutsideDevelopment.
var Module = providers.Module{
	ID:        "guest",
	Kind:      providers.KindProxy,
	NewConfig: func() providers.Config { return &Config{UserEntityRef: DefaultUserEntityRef} },
}

// Validate implements providers.Config: userEntityRef must be an entity ref (kind
// defaults to User).
func (c *Config) Validate(sec config.Section) config.Problems {
	if c.UserEntityRef == "" {
		c.UserEntityRef = DefaultUserEntityRef
	}
	ref, err := resolvers.ParseEntityRef(c.UserEntityRef, "User", resolvers.DefaultNamespace)
	if err != nil {
		return config.Problems{sec.Problem("userEntityRef", "%v", err)}
	}
	c.ref = ref
	return nil
}

// Build implements providers.Config.
func (c *Config) Build(deps providers.Deps) (providers.Provider, error) {
	return &Provider{allowed: deps.DevelopmentMode || c.DangerouslyAllowOutsideDevelopment}, nil
}

// SignInResolver implements providers.CodeResolver, as Backstage's guest module passes
// its resolver in code: the configured user from the catalog when it is there, else an
// identity for the configured ref with the configured ownership.
func (c *Config) SignInResolver(cat resolvers.Catalog) resolvers.Resolver {
	ref := c.ref
	ent := c.OwnershipEntityRefs
	return resolvers.ResolverFunc(func(ctx context.Context, _ resolvers.SignInInfo) (resolvers.Identity, error) {
		id, err := resolvers.SignInWithCatalogUser(ctx, cat, resolvers.CatalogUserQuery{EntityRef: &ref}, nil)
		if err == nil || !backstageerr.IsNotFound(err) {
			return id, err
		}
		sub := ref.String()
		own := ent
		if len(own) == 0 {
			own = []string{sub}
		}
		return resolvers.Identity{UserEntityRef: sub, OwnershipEntityRefs: own}, nil
	})
}

// Provider is the built guest provider.
type Provider struct {
	allowed bool
}

var _ providers.ProxyProvider = (*Provider)(nil)

// AuthenticateRequest implements providers.ProxyProvider: every request is the guest,
// outside development only when dangerouslyAllowOutsideDevelopment is set. The answer
// has an empty profile and no providerInfo, as Backstage's.
func (p *Provider) AuthenticateRequest(context.Context, *http.Request) (providers.ProxyResult, error) {
	if !p.allowed {
		return providers.ProxyResult{}, backstageerr.NotAllowed(NotAllowedMessage)
	}
	return providers.ProxyResult{}, nil
}
