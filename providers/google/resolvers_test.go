package google_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/google"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func chain(t *testing.T, cat resolvers.Catalog, entries ...map[string]any) resolvers.Resolver {
	t.Helper()
	return providertest.Chain(t, google.Module, cat, entries...)
}

// signedIn is a sign-in with this userinfo.
func signedIn(raw map[string]any) resolvers.SignInInfo {
	return providertest.EngineSignIn(google.ProfileFromUserInfo(raw), nil)
}

func TestEmailMatchingUserEntityAnnotation(t *testing.T) {
	ctx := context.Background()
	cat := providertest.Catalog{
		providertest.User("alice", map[string]string{google.EmailAnnotation: "alice@example.com"}, "group:default/team-a"),
		providertest.User("carol", nil),
	}
	byAnnotation := map[string]any{"resolver": "emailMatchingUserEntityAnnotation"}
	id, err := chain(t, cat, byAnnotation).Resolve(ctx, signedIn(map[string]any{"sub": "1", "email": "Alice@example.com", "email_verified": true}))
	if err != nil || id.UserEntityRef != "user:default/alice" || strings.Join(id.OwnershipEntityRefs, ",") != "user:default/alice,group:default/team-a" {
		t.Fatalf("found: %+v %v", id, err)
	}
	_, err = chain(t, cat, byAnnotation).Resolve(ctx, signedIn(map[string]any{"sub": "3", "email": "carol@example.com"}))
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "emailMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.google.com/email=carol@example.com") {
		t.Fatalf("not found: %v", err)
	}
	// Chained: no annotation for carol, then her local part is a User.
	id, err = chain(t, cat, byAnnotation, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}).Resolve(ctx, signedIn(map[string]any{"sub": "3", "email": "carol@example.com"}))
	if err != nil || id.UserEntityRef != "user:default/carol" {
		t.Fatalf("chained: %+v %v", id, err)
	}
	id, err = chain(t, cat, map[string]any{"resolver": "emailMatchingUserEntityAnnotation", "dangerouslyAllowSignInWithoutUserInCatalog": true}).
		Resolve(ctx, signedIn(map[string]any{"sub": "9", "email": "zed@example.com"}))
	if err != nil || id.UserEntityRef != "user:default/zed@example.com" {
		t.Fatalf("fallback: %+v %v", id, err)
	}
	// No email, or one Google says is unverified: Backstage's message, and the chain
	// stops.
	for _, raw := range []map[string]any{{"sub": "2"}, {"sub": "1", "email": "alice@example.com", "email_verified": false}} {
		_, err = chain(t, cat, byAnnotation, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, signedIn(raw))
		if backstageerr.MessageOf(err) != google.MsgNoEmail || backstageerr.NameOf(err) != backstageerr.NameError {
			t.Errorf("%v: %v", raw, err)
		}
	}
	// Google's resolver has a fixed annotation (the spectrocloud one of the same name
	// takes an option).
	sec := config.SectionFromMap(map[string]any{"resolvers": []any{map[string]any{"resolver": "emailMatchingUserEntityAnnotation", "annotation": "x"}}})
	if _, ps := resolvers.DecodeSignIn(sec, resolvers.NewSet(google.Module.Resolvers...)); ps.Err() == nil || !strings.Contains(ps.Err().Error(), "annotation") {
		t.Errorf("an unknown option: %v", ps)
	}
}
