package okta_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/okta"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func signedIn(raw map[string]any) resolvers.SignInInfo {
	return providertest.EngineSignIn(okta.ProfileFromUserInfo(raw), nil)
}

func TestEmailMatchingUserEntityAnnotation(t *testing.T) {
	ctx := context.Background()
	cat := providertest.Catalog{
		providertest.User("alice", map[string]string{okta.EmailAnnotation: "alice@example.com"}, "group:default/team-a"),
		providertest.User("carol", nil),
	}
	chain := func(entries ...map[string]any) resolvers.Resolver {
		return providertest.Chain(t, okta.Module, cat, entries...)
	}
	byAnnotation := map[string]any{"resolver": "emailMatchingUserEntityAnnotation"}
	id, err := chain(byAnnotation).Resolve(ctx, signedIn(map[string]any{"sub": "1", "email": "alice@example.com"}))
	if err != nil || id.UserEntityRef != "user:default/alice" || strings.Join(id.OwnershipEntityRefs, ",") != "user:default/alice,group:default/team-a" {
		t.Fatalf("found: %+v %v", id, err)
	}
	_, err = chain(byAnnotation).Resolve(ctx, signedIn(map[string]any{"sub": "3", "email": "carol@example.com"}))
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "User not found, looked up metadata.annotations.okta.com/email=carol@example.com") {
		t.Fatalf("not found: %v", err)
	}
	id, err = chain(byAnnotation, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}).Resolve(ctx, signedIn(map[string]any{"sub": "3", "email": "carol@example.com"}))
	if err != nil || id.UserEntityRef != "user:default/carol" {
		t.Fatalf("chained: %+v %v", id, err)
	}
	id, err = chain(map[string]any{"resolver": "emailMatchingUserEntityAnnotation", "dangerouslyAllowSignInWithoutUserInCatalog": true}).
		Resolve(ctx, signedIn(map[string]any{"sub": "9", "email": "zed@example.com"}))
	if err != nil || id.UserEntityRef != "user:default/zed@example.com" {
		t.Fatalf("fallback: %+v %v", id, err)
	}
	for _, raw := range []map[string]any{{"sub": "2"}, {"sub": "1", "email": "alice@example.com", "email_verified": false}} {
		_, err = chain(byAnnotation, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, signedIn(raw))
		if backstageerr.MessageOf(err) != okta.MsgNoEmail || backstageerr.NameOf(err) != backstageerr.NameError {
			t.Errorf("%v: %v", raw, err)
		}
	}
}
