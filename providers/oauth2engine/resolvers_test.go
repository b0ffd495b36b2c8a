package oauth2engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// build decodes one resolver entry as signIn config would and binds it to cat.
func build(t *testing.T, f resolvers.Factory, opts map[string]any, cat resolvers.Catalog) resolvers.Resolver {
	t.Helper()
	entry := map[string]any{"resolver": f.Name}
	for k, v := range opts {
		entry[k] = v
	}
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"resolvers": []any{entry}}), resolvers.NewSet(f))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	return sc.Build(cat)
}

func infoWith(fp *oauth2engine.FullProfile) resolvers.SignInInfo {
	e, _ := oauth2engine.New(oauth2engine.Config{ClientID: "c", AuthorizationURL: "https://a/x", TokenURL: "https://a/t"}, oauth2engine.Hooks{}, providers.Deps{})
	res := e.Result(&oauth2engine.Token{AccessToken: "x"}, fp, nil)
	return resolvers.SignInInfo{Email: res.Profile.Email, Claims: res.Claims}
}

func TestEntityNameResolver(t *testing.T) {
	f := oauth2engine.EntityNameResolver("usernameMatchingUserEntityName", func(info resolvers.SignInInfo) string { return oauth2engine.FullProfileOf(info).Username }, "Vendor user profile does not contain a username")
	cat := providertest.Catalog{providertest.User("octocat", nil)}
	ctx := context.Background()

	id, err := build(t, f, nil, cat).Resolve(ctx, infoWith(&oauth2engine.FullProfile{Username: "octocat"}))
	if err != nil || id.UserEntityRef != "user:default/octocat" {
		t.Fatalf("found: %+v %v", id, err)
	}
	_, err = build(t, f, nil, cat).Resolve(ctx, infoWith(&oauth2engine.FullProfile{Username: "nobody"}))
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "usernameMatchingUserEntityName: User not found, looked up user:default/nobody") {
		t.Fatalf("not found: %v", err)
	}
	id, err = build(t, f, map[string]any{"dangerouslyAllowSignInWithoutUserInCatalog": true}, cat).Resolve(ctx, infoWith(&oauth2engine.FullProfile{Username: "Nobody"}))
	if err != nil || id.UserEntityRef != "user:default/nobody" || len(id.OwnershipEntityRefs) != 1 {
		t.Fatalf("fallback: %+v %v", id, err)
	}
	_, err = build(t, f, nil, cat).Resolve(ctx, infoWith(&oauth2engine.FullProfile{}))
	if backstageerr.MessageOf(err) != "Vendor user profile does not contain a username" || backstageerr.IsNotFound(err) {
		t.Fatalf("missing username must stop the chain: %v", err)
	}
	if _, err := build(t, f, nil, cat).Resolve(ctx, resolvers.SignInInfo{}); err == nil {
		t.Fatal("a sign-in without a full profile resolved")
	}
	_, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"resolvers": []any{map[string]any{"resolver": f.Name, "dangerouslyAllowSignInWithoutUserInCatalg": true}}}), resolvers.NewSet(f))
	if ps.Err() == nil {
		t.Error("a misspelled option was accepted")
	}
}

func TestAnnotationResolver(t *testing.T) {
	f := oauth2engine.AnnotationResolver("userIdMatchingUserEntityAnnotation", func(info resolvers.SignInInfo) (string, string, error) {
		fp := oauth2engine.FullProfileOf(info)
		if fp.ID == "" {
			return "", "", backstageerr.Plain("no id")
		}
		return "vendor.example/user-id", fp.ID, nil
	})
	cat := providertest.Catalog{providertest.User("alice", map[string]string{"vendor.example/user-id": "123"}), providertest.User("twin1", map[string]string{"vendor.example/user-id": "9"}), providertest.User("twin2", map[string]string{"vendor.example/user-id": "9"})}
	ctx := context.Background()
	r := build(t, f, nil, cat)
	if id, err := r.Resolve(ctx, infoWith(&oauth2engine.FullProfile{ID: "123"})); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Fatalf("found: %+v %v", id, err)
	}
	if _, err := r.Resolve(ctx, infoWith(&oauth2engine.FullProfile{ID: "9"})); backstageerr.NameOf(err) != backstageerr.NameConflict {
		t.Fatalf("two matches: %v", err)
	}
	if _, err := r.Resolve(ctx, infoWith(&oauth2engine.FullProfile{ID: "5"})); !strings.Contains(err.Error(), "looked up metadata.annotations.vendor.example/user-id=5") {
		t.Fatalf("not found: %v", err)
	}
	if _, err := r.Resolve(ctx, infoWith(&oauth2engine.FullProfile{})); backstageerr.MessageOf(err) != "no id" {
		t.Fatalf("missing id: %v", err)
	}
}
