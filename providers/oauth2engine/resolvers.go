package oauth2engine

import (
	"context"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Vendor resolvers: Backstage's modules register resolvers that read the full profile
// (info.result.fullProfile) and take one option, dangerouslyAllowSignInWithoutUserInCatalog.
// NewResolverFactory builds such a factory; EntityNameResolver and AnnotationResolver
// are the two lookups most modules use.

// resolverOptions are a vendor resolver's options.
type resolverOptions struct {
	Dangerously resolvers.Flag `config:"dangerouslyAllowSignInWithoutUserInCatalog"`
	build       func(cat resolvers.Catalog, dangerouslyAllow bool) resolvers.Resolver
}

func (o *resolverOptions) Validate(config.Section) config.Problems { return nil }

func (o *resolverOptions) Build(cat resolvers.Catalog) resolvers.Resolver {
	return o.build(cat, bool(o.Dangerously))
}

// NewResolverFactory is a resolver named name whose only option is
// dangerouslyAllowSignInWithoutUserInCatalog (unknown keys are config errors);
// build binds it to a catalog.
func NewResolverFactory(name string, build func(cat resolvers.Catalog, dangerouslyAllow bool) resolvers.Resolver) resolvers.Factory {
	return resolvers.Factory{Name: name, NewOptions: func() resolvers.Options { return &resolverOptions{build: build} }}
}

// EntityNameResolver is the usernameMatchingUserEntityName shape: value(sign-in, most
// often a field of FullProfileOf) is looked up as user:default/<value>; "" fails with
// the plain Error missing (which stops the chain, as in Backstage); the fallback is
// user:default/<value>.
func EntityNameResolver(name string, value func(resolvers.SignInInfo) string, missing string) resolvers.Factory {
	return NewResolverFactory(name, func(cat resolvers.Catalog, dangerously bool) resolvers.Resolver {
		return resolvers.ResolverFunc(func(ctx context.Context, info resolvers.SignInInfo) (resolvers.Identity, error) {
			v := value(info)
			if v == "" {
				return resolvers.Identity{}, backstageerr.Plain("%s", missing)
			}
			ref := resolvers.EntityRef{Name: v}
			return SignIn(ctx, cat, resolvers.CatalogUserQuery{EntityRef: &ref}, fallback(dangerously, v), "user:default/"+v)
		})
	})
}

// AnnotationResolver is the userIdMatchingUserEntityAnnotation and
// emailMatchingUserEntityAnnotation shape: annotation(sign-in) gives the annotation key
// and the value to look up, from FullProfileOf(info) or the verified info.Email (an
// error stops the chain); the fallback is user:default/<value>.
func AnnotationResolver(name string, annotation func(resolvers.SignInInfo) (key, value string, err error)) resolvers.Factory {
	return NewResolverFactory(name, func(cat resolvers.Catalog, dangerously bool) resolvers.Resolver {
		return resolvers.ResolverFunc(func(ctx context.Context, info resolvers.SignInInfo) (resolvers.Identity, error) {
			key, v, err := annotation(info)
			if err != nil {
				return resolvers.Identity{}, err
			}
			q := resolvers.CatalogUserQuery{Annotations: map[string]string{key: v}}
			return SignIn(ctx, cat, q, fallback(dangerously, v), "metadata.annotations."+key+"="+v)
		})
	})
}

func fallback(dangerously bool, name string) *resolvers.EntityRef {
	if !dangerously {
		return nil
	}
	return &resolvers.EntityRef{Name: name}
}

// SignIn is resolvers.SignInWithCatalogUser whose NotFoundError names the lookup, so
// that the chain's "Tried: ..." detail says what was searched for.
func SignIn(ctx context.Context, cat resolvers.Catalog, q resolvers.CatalogUserQuery, fallback *resolvers.EntityRef, lookup string) (resolvers.Identity, error) {
	id, err := resolvers.SignInWithCatalogUser(ctx, cat, q, fallback)
	return id, NotFoundWith(err, lookup)
}

// NotFoundWith adds ", looked up <lookup>" to a NotFoundError's message; other errors
// are returned as they are.
func NotFoundWith(err error, lookup string) error {
	if err == nil || !backstageerr.IsNotFound(err) {
		return err
	}
	be, _ := backstageerr.As(err)
	return &backstageerr.Error{Name: backstageerr.NameNotFound, Message: be.Message + ", looked up " + lookup, Cause: err}
}
