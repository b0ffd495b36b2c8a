package microsoft_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/microsoft"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

func chain(t *testing.T, cat resolvers.Catalog, entries ...map[string]any) resolvers.Resolver {
	t.Helper()
	return providertest.Chain(t, microsoft.Module, cat, entries...)
}

// signedIn is a sign-in with this Graph /me (nil: none, as with skipUserProfile) and
// these verified ID token claims.
func signedIn(me map[string]any, idClaims map[string]any) resolvers.SignInInfo {
	fp := &oauth2engine.FullProfile{}
	if me != nil {
		fp = microsoft.ProfileFromGraph(me)
	}
	return providertest.EngineSignIn(fp, idClaims)
}

const aliceOID = "0f8fad5b-d9cb-469f-a165-70867728950e"

func TestResolvers(t *testing.T) {
	ctx := context.Background()
	cat := providertest.Catalog{
		providertest.User("alice", map[string]string{microsoft.EmailAnnotation: "alice@example.com", microsoft.UserIDAnnotation: aliceOID}, "group:default/team-a"),
		providertest.User("carol", nil),
	}
	byEmail := map[string]any{"resolver": "emailMatchingUserEntityAnnotation"}
	byID := map[string]any{"resolver": "userIdMatchingUserEntityAnnotation"}
	alice := signedIn(map[string]any{"id": aliceOID, "mail": "alice@example.com", "displayName": "Alice"}, nil)
	for _, r := range []map[string]any{byEmail, byID} {
		id, err := chain(t, cat, r).Resolve(ctx, alice)
		if err != nil || id.UserEntityRef != "user:default/alice" || strings.Join(id.OwnershipEntityRefs, ",") != "user:default/alice,group:default/team-a" {
			t.Errorf("%v found: %+v %v", r["resolver"], id, err)
		}
	}
	// skipUserProfile: no Graph profile, the verified oid and email.
	id, err := chain(t, cat, byID).Resolve(ctx, signedIn(nil, map[string]any{"oid": aliceOID, "sub": "pairwise"}))
	if err != nil || id.UserEntityRef != "user:default/alice" {
		t.Errorf("by the verified oid: %+v %v", id, err)
	}
	carol := signedIn(map[string]any{"id": "c-1", "userPrincipalName": "carol@example.com"}, nil)
	_, err = chain(t, cat, byID).Resolve(ctx, carol)
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.graph.microsoft.com/user-id=c-1") {
		t.Errorf("not found: %v", err)
	}
	// Chained: by id, by email annotation, then the common local-part resolver.
	id, err = chain(t, cat, byID, byEmail, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}).Resolve(ctx, carol)
	if err != nil || id.UserEntityRef != "user:default/carol" {
		t.Errorf("chained: %+v %v", id, err)
	}
	id, err = chain(t, cat, map[string]any{"resolver": "userIdMatchingUserEntityAnnotation", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, carol)
	if err != nil || id.UserEntityRef != "user:default/c-1" {
		t.Errorf("fallback: %+v %v", id, err)
	}
	// Missing fields: Backstage's messages, and the chain stops.
	nothing := signedIn(nil, nil)
	for r, want := range map[string]string{"emailMatchingUserEntityAnnotation": microsoft.MsgNoEmail, "userIdMatchingUserEntityAnnotation": microsoft.MsgNoID} {
		_, err := chain(t, cat, map[string]any{"resolver": r}, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, nothing)
		if backstageerr.MessageOf(err) != want || backstageerr.NameOf(err) != backstageerr.NameError {
			t.Errorf("%s: %v", r, err)
		}
	}
}
