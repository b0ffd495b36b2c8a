package github_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/github"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

type resolversInfo = resolvers.SignInInfo

func user(name, nodeID string, groups ...string) resolvers.Entity {
	var a map[string]string
	if nodeID != "" {
		a = map[string]string{github.UserIDAnnotation: nodeID}
	}
	return providertest.User(name, a, groups...)
}

type catalog = providertest.Catalog

// chain decodes signIn.resolvers as config would, with GitHub's resolvers.
func chain(t *testing.T, cat resolvers.Catalog, entries ...map[string]any) resolvers.Resolver {
	t.Helper()
	items := make([]any, len(entries))
	for i, e := range entries {
		items[i] = e
	}
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"resolvers": items}), resolvers.NewSet(github.Module.Resolvers...))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	return sc.Build(cat)
}

func signedIn(login, nodeID, email string) resolvers.SignInInfo {
	raw := map[string]any{"login": login, "id": int64(1)}
	if nodeID != "" {
		raw["node_id"] = nodeID
	}
	fp := github.ProfileFromUser(raw)
	e, _ := oauth2engine.New(oauth2engine.Config{ClientID: "c", AuthorizationURL: "https://a/x", TokenURL: "https://a/t"}, oauth2engine.Hooks{}, providers.Deps{})
	res := e.Result(&oauth2engine.Token{AccessToken: "x"}, fp, nil)
	return resolvers.SignInInfo{Email: email, Claims: res.Claims}
}

func TestUserIDMatchingUserEntityAnnotation(t *testing.T) {
	ctx := context.Background()
	byID := map[string]any{"resolver": "userIdMatchingUserEntityAnnotation"}
	cat := catalog{user("alice", "MDQ6VXNlcjEwMDE=", "group:default/team-a"), user("lower", "mdq6vxnlcjeymzq="), user("twin1", "TWIN"), user("twin2", "TWIN")}

	id, err := chain(t, cat, byID).Resolve(ctx, signedIn("alice", "MDQ6VXNlcjEwMDE=", ""))
	if err != nil || id.UserEntityRef != "user:default/alice" || strings.Join(id.OwnershipEntityRefs, ",") != "user:default/alice,group:default/team-a" {
		t.Fatalf("exact match: %+v %v", id, err)
	}
	// The catalog matched case-insensitively, but the node id differs in case: an Error
	// that stops the chain (a later resolver must not sign this user in).
	_, err = chain(t, cat, byID, map[string]any{"resolver": "usernameMatchingUserEntityName", "dangerouslyAllowSignInWithoutUserInCatalog": true}).
		Resolve(ctx, signedIn("lower", "MDQ6VXNlcjEyMzQ=", ""))
	if msg(err) != github.MsgUserIDMismatch || backstageerr.NameOf(err) != backstageerr.NameError {
		t.Fatalf("case mismatch: %v", err)
	}
	if _, err = chain(t, cat, byID).Resolve(ctx, signedIn("t", "TWIN", "")); backstageerr.NameOf(err) != backstageerr.NameConflict || msg(err) != github.MsgMultipleExactMatches {
		t.Fatalf("two exact matches: %v", err)
	}
	_, err = chain(t, cat, byID).Resolve(ctx, signedIn("nobody", "MDQ6Tm9ib2R5", ""))
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) || !strings.Contains(err.Error(), "userIdMatchingUserEntityAnnotation: User not found, looked up metadata.annotations.github.com/user-id=MDQ6Tm9ib2R5") {
		t.Fatalf("not found: %v", err)
	}
	id, err = chain(t, cat, map[string]any{"resolver": "userIdMatchingUserEntityAnnotation", "dangerouslyAllowSignInWithoutUserInCatalog": true}).Resolve(ctx, signedIn("nobody", "MDQ6Tm9ib2R5", ""))
	if err != nil || id.UserEntityRef != "user:default/mdq6tm9ib2r5" {
		t.Fatalf("fallback: %+v %v", id, err)
	}
	if _, err = chain(t, cat, byID).Resolve(ctx, signedIn("alice", "", "")); msg(err) != github.MsgNoUserID {
		t.Fatalf("no node id: %v", err)
	}
	if _, err = chain(t, nil, byID).Resolve(ctx, signedIn("alice", "MDQ6VXNlcjEwMDE=", "")); !errors.Is(err, resolvers.ErrUnresolvedIdentity) {
		t.Fatalf("no catalog: %v", err)
	}
}

func TestUsernameAndChains(t *testing.T) {
	ctx := context.Background()
	cat := catalog{user("alice", ""), user("carol", "")}
	byName := map[string]any{"resolver": "usernameMatchingUserEntityName"}
	if id, err := chain(t, cat, byName).Resolve(ctx, signedIn("Alice", "X", "")); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Fatalf("found: %+v %v", id, err)
	}
	// Chained: the node id is not in the catalog (NotFound), the login is.
	if id, err := chain(t, cat, map[string]any{"resolver": "userIdMatchingUserEntityAnnotation"}, byName).Resolve(ctx, signedIn("carol", "MDQ6Q2Fyb2w=", "")); err != nil || id.UserEntityRef != "user:default/carol" {
		t.Fatalf("chained: %+v %v", id, err)
	}
	// Chained to a common resolver.
	if id, err := chain(t, cat, byName, map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}).Resolve(ctx, signedIn("zed", "Z", "carol@example.com")); err != nil || id.UserEntityRef != "user:default/carol" {
		t.Fatalf("chained to a common resolver: %+v %v", id, err)
	}
	_, err := chain(t, cat, byName).Resolve(ctx, signedIn("", "X", ""))
	if msg(err) != github.MsgNoUsername {
		t.Fatalf("no login: %v", err)
	}
	_, err = chain(t, cat, byName, map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}).Resolve(ctx, signedIn("zed", "Z", ""))
	if err == nil || !strings.Contains(err.Error(), "Login failed, user profile does not contain an email") {
		t.Fatalf("no email: %v", err)
	}
}

// msg is the error's Backstage message ("<nil>" for none).
func msg(err error) string {
	if err == nil {
		return "<nil>"
	}
	return backstageerr.MessageOf(err)
}
