package resolvers_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/localcatalog"
)

// fakeCatalog matches filters on the few fields the resolvers use.
type fakeCatalog struct {
	mu      sync.Mutex
	users   []resolvers.Entity
	err     error // returned by every call when set
	finds   []map[string]string
	getRefs []string
}

func (f *fakeCatalog) FindUsers(_ context.Context, filter map[string]string) ([]resolvers.Entity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finds = append(f.finds, filter)
	if f.err != nil {
		return nil, f.err
	}
	var out []resolvers.Entity
	for _, u := range f.users {
		ok := true
		for k, v := range filter {
			var have string
			switch {
			case k == "kind":
				have = u.Kind
			case k == "spec.profile.email":
				p, _ := u.Spec["profile"].(map[string]any)
				have, _ = p["email"].(string)
			case strings.HasPrefix(k, "metadata.annotations."):
				have = u.Metadata.Annotations[strings.TrimPrefix(k, "metadata.annotations.")]
			default:
				ok = false
			}
			ok = ok && strings.EqualFold(have, v)
		}
		if ok {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fakeCatalog) GetEntityByRef(_ context.Context, ref resolvers.EntityRef) (*resolvers.Entity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getRefs = append(f.getRefs, ref.String())
	if f.err != nil {
		return nil, f.err
	}
	for _, u := range f.users {
		if resolvers.EntityRefOf(u).String() == ref.String() {
			return &u, nil
		}
	}
	return nil, backstageerr.NotFound("not here")
}

func user(name, email string, annotations map[string]string, groups ...string) resolvers.Entity {
	e := resolvers.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "User",
		Metadata: resolvers.EntityMetadata{Name: name, Namespace: "default", Annotations: annotations},
		Spec:     map[string]any{"profile": map[string]any{"email": email}}}
	for _, g := range groups {
		e.Relations = append(e.Relations, resolvers.Relation{Type: "memberOf", TargetRef: g})
	}
	return e
}

func newFake() *fakeCatalog {
	return &fakeCatalog{users: []resolvers.Entity{
		user("alice", "alice@example.com", map[string]string{"spectrocloud.com/email": "alice@corp.example", "custom/mail": "a@custom.example"},
			"group:default/team-a", "group:default/team-b", "group:default/team-c", "group:default/team-a"),
		user("carol", "Carol@Example.com", nil),
		user("dup1", "dup@example.com", nil),
		user("dup2", "dup@example.com", nil),
		user("eve", "eve@evil.test", nil),
		user("dave", "alice@other.example", nil),
		user("chris", "c.smith@example.com", nil),
	}}
}

// orgYAML is the same organisation as newFake, as catalog files; team-c lists alice
// in spec.members, the rest comes from spec.memberOf; org is team-a's parent (not
// owned by alice: ownership is direct only).
const orgYAML = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
  annotations:
    spectrocloud.com/email: alice@corp.example
    custom/mail: a@custom.example
spec:
  profile: {email: alice@example.com}
  memberOf: [team-a, group:team-b, Team-A]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: [], parent: org, members: [alice]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-c}
spec: {type: team, children: [], members: [user:default/alice]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: org}
spec: {type: org, children: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: more}
spec: {target: people/more.yaml}
`

const moreYAML = `apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: carol}
spec: {profile: {email: Carol@Example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: dup1}
spec: {profile: {email: dup@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: dup2}
spec: {profile: {email: dup@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: eve}
spec: {profile: {email: eve@evil.test}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: dave}
spec: {profile: {email: alice@other.example}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: chris}
spec: {profile: {email: c.smith@example.com}}
`

func newLocal(t testing.TB) *localcatalog.Catalog {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "people"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "org.yaml"), []byte(orgYAML), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "people", "more.yaml"), []byte(moreYAML), 0o644))
	c, err := localcatalog.New(localcatalog.Options{
		Locations: []config.CatalogLocation{{Type: "file", Target: "./org.yaml"}},
		Rules:     []config.CatalogRule{{Allow: []string{"User", "Group", "Location"}}},
		WorkDir:   dir,
	})
	must(t, err)
	if ps := c.Problems(); len(ps) > 0 {
		t.Fatalf("unexpected catalog problems: %v", ps)
	}
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type entry map[string]any

func chain(t testing.TB, cat resolvers.Catalog, entries ...entry) resolvers.Resolver {
	t.Helper()
	list := make([]any, len(entries))
	for i, e := range entries {
		list[i] = map[string]any(e)
	}
	return build(t, cat, map[string]any{"resolvers": list})
}

// build decodes a signIn section with the common resolvers and the configurable
// annotation resolver, and binds it to cat.
func build(t testing.TB, cat resolvers.Catalog, signIn map[string]any) resolvers.Resolver {
	t.Helper()
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"signIn": signIn}).Sub("signIn"), resolvers.NewSet(resolvers.EmailAnnotation()))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	if sc == nil {
		t.Fatal("DecodeSignIn returned no chain")
	}
	return sc.Build(cat)
}

const (
	profile   = resolvers.NameEmailMatchingUserEntityProfileEmail
	localPart = resolvers.NameEmailLocalPartMatchingUserEntityName
	annot     = resolvers.NameEmailMatchingUserEntityAnnotation
)

func TestResolvers(t *testing.T) {
	aliceEnt := []string{"user:default/alice", "group:default/team-a", "group:default/team-b", "group:default/team-c"}
	tests := []struct {
		name      string
		entries   []entry
		email     string
		wantUser  string
		wantEnt   []string // nil: only the user itself
		wantErr   string   // Backstage error name
		wantMsg   string   // exact message
		fakeOnly  bool
		wantCalls string // fake only: "finds/gets" count, e.g. "1/0"
	}{
		{name: "exact email", entries: []entry{{"resolver": profile}}, email: "alice@example.com", wantUser: "user:default/alice", wantEnt: aliceEnt},
		{name: "email case-insensitive", entries: []entry{{"resolver": profile}}, email: "CAROL@example.COM", wantUser: "user:default/carol"},
		// Another account's plus address is not alice (Backstage would sign it in as alice).
		{name: "plus address is another identity", entries: []entry{{"resolver": profile}}, email: "alice+mallory@example.com",
			wantErr: "Error", wantMsg: resolvers.MsgUnresolvedIdentity + " Tried: emailMatchingUserEntityProfileEmail with spec.profile.email=alice+mallory@example.com."},
		{name: "plus address with allowedDomains", entries: []entry{{"resolver": profile, "allowedDomains": []any{"example.com"}}}, email: "alice+mallory@example.com",
			wantErr: "Error", wantMsg: resolvers.MsgUnresolvedIdentity + " Tried: emailMatchingUserEntityProfileEmail with spec.profile.email=alice+mallory@example.com."},
		{name: "plus addressing retried when asked", entries: []entry{{"resolver": profile, "matchEmailWithoutPlusTag": true}}, email: "alice+dev@example.com", wantUser: "user:default/alice", wantEnt: aliceEnt},
		{name: "no match", entries: []entry{{"resolver": profile}, {"resolver": localPart}}, email: "bob@example.com",
			wantErr: "Error", wantMsg: resolvers.MsgUnresolvedIdentity + " Tried: emailMatchingUserEntityProfileEmail with spec.profile.email=bob@example.com; emailLocalPartMatchingUserEntityName with user:default/bob."},
		{name: "no match after plus retry", entries: []entry{{"resolver": profile, "matchEmailWithoutPlusTag": true}}, email: "bob+x@example.com",
			wantErr: "Error", wantMsg: resolvers.MsgUnresolvedIdentity + " Tried: emailMatchingUserEntityProfileEmail with spec.profile.email=bob+x@example.com, then spec.profile.email=bob@example.com."},
		{name: "multiple matches", entries: []entry{{"resolver": profile}, {"resolver": localPart}}, email: "dup@example.com",
			wantErr: "ConflictError", wantMsg: "User lookup resulted in multiple matches"},
		{name: "no email", entries: []entry{{"resolver": profile}, {"resolver": localPart}}, email: "",
			wantErr: "Error", wantMsg: "Login failed, user profile does not contain an email"},
		{name: "local part", entries: []entry{{"resolver": localPart}}, email: "alice@example.com", wantUser: "user:default/alice", wantEnt: aliceEnt},
		// Backstage's behaviour without allowedDomains (REFERENCE 8.10), kept:
		{name: "local part other domain without allowedDomains", entries: []entry{{"resolver": localPart}}, email: "alice@evil.test", wantUser: "user:default/alice", wantEnt: aliceEnt},
		{name: "local part other domain with allowedDomains", entries: []entry{{"resolver": localPart, "allowedDomains": []any{"example.com"}}}, email: "alice@evil.test",
			wantErr: "NotAllowedError", wantMsg: "Sign-in user email is not from an allowed domain"},
		{name: "allowedDomains stops the chain", entries: []entry{{"resolver": localPart, "allowedDomains": []any{"example.com"}}, {"resolver": profile}}, email: "alice@evil.test",
			wantErr: "NotAllowedError", wantMsg: "Sign-in user email is not from an allowed domain"},
		{name: "allowedDomains case-insensitive", entries: []entry{{"resolver": localPart, "allowedDomains": []any{"Example.com"}}}, email: "alice@EXAMPLE.com", wantUser: "user:default/alice", wantEnt: aliceEnt},
		{name: "profile email allowedDomains enforced", entries: []entry{{"resolver": profile, "allowedDomains": []any{"example.com"}}}, email: "eve@evil.test",
			wantErr: "NotAllowedError", wantMsg: "Sign-in user email is not from an allowed domain"},
		{name: "profile email allowedDomains allows listed", entries: []entry{{"resolver": profile, "allowedDomains": []any{"evil.test", "example.com"}}}, email: "eve@evil.test", wantUser: "user:default/eve"},
		{name: "fallback local part", entries: []entry{{"resolver": localPart, "dangerouslyAllowSignInWithoutUserInCatalog": true}}, email: "Bob@example.com", wantUser: "user:default/bob"},
		{name: "fallback profile email", entries: []entry{{"resolver": profile, "dangerouslyAllowSignInWithoutUserInCatalog": true}}, email: "bob@example.com", wantUser: "user:default/bob@example.com"},
		{name: "fallback profile email keeps plus", entries: []entry{{"resolver": profile, "dangerouslyAllowSignInWithoutUserInCatalog": true}}, email: "bob+x@example.com", wantUser: "user:default/bob+x@example.com"},
		{name: "fallback profile email strips plus when asked", entries: []entry{{"resolver": profile, "dangerouslyAllowSignInWithoutUserInCatalog": true, "matchEmailWithoutPlusTag": true}}, email: "bob+x@example.com", wantUser: "user:default/bob@example.com"},
		{name: "fallback annotation", entries: []entry{{"resolver": annot, "dangerouslyAllowSignInWithoutUserInCatalog": "true"}}, email: "bob@example.com", wantUser: "user:default/bob@example.com"},
		{name: "fallback not used for other errors", entries: []entry{{"resolver": profile, "dangerouslyAllowSignInWithoutUserInCatalog": true}}, email: "dup@example.com",
			wantErr: "ConflictError", wantMsg: "User lookup resulted in multiple matches"},
		{name: "fallback does not bypass allowedDomains", entries: []entry{{"resolver": localPart, "allowedDomains": []any{"example.com"}, "dangerouslyAllowSignInWithoutUserInCatalog": true}}, email: "bob@evil.test",
			wantErr: "NotAllowedError", wantMsg: "Sign-in user email is not from an allowed domain"},
		{name: "annotation default key", entries: []entry{{"resolver": annot}}, email: "alice@corp.example", wantUser: "user:default/alice", wantEnt: aliceEnt},
		{name: "annotation custom key", entries: []entry{{"resolver": annot, "annotation": "custom/mail"}}, email: "a@custom.example", wantUser: "user:default/alice", wantEnt: aliceEnt},
		{name: "annotation no match", entries: []entry{{"resolver": annot}}, email: "alice@example.com",
			wantErr: "Error", wantMsg: resolvers.MsgUnresolvedIdentity + " Tried: emailMatchingUserEntityAnnotation with metadata.annotations.spectrocloud.com/email=alice@example.com."},
		{name: "chain falls through to second", entries: []entry{{"resolver": localPart}, {"resolver": profile}}, email: "c.smith@example.com", wantUser: "user:default/chris"},
		{name: "order: local part first", entries: []entry{{"resolver": localPart}, {"resolver": profile}}, email: "alice@other.example", wantUser: "user:default/alice", wantEnt: aliceEnt},
		{name: "order: profile email first", entries: []entry{{"resolver": profile}, {"resolver": localPart}}, email: "alice@other.example", wantUser: "user:default/dave"},
		{name: "first match stops the chain", entries: []entry{{"resolver": profile}, {"resolver": localPart}}, email: "alice@example.com", wantUser: "user:default/alice", wantEnt: aliceEnt,
			fakeOnly: true, wantCalls: "1/0"},
	}
	catalogs := map[string]func(t *testing.T) (resolvers.Catalog, *fakeCatalog){
		"fake":  func(*testing.T) (resolvers.Catalog, *fakeCatalog) { f := newFake(); return f, f },
		"local": func(t *testing.T) (resolvers.Catalog, *fakeCatalog) { return newLocal(t), nil },
	}
	for catName, mk := range catalogs {
		for _, tt := range tests {
			if tt.fakeOnly && catName != "fake" {
				continue
			}
			t.Run(catName+"/"+tt.name, func(t *testing.T) {
				cat, fake := mk(t)
				r := chain(t, cat, tt.entries...)
				id, err := r.Resolve(context.Background(), resolvers.SignInInfo{Email: tt.email})
				if tt.wantErr != "" {
					if err == nil {
						t.Fatalf("want %s, got identity %+v", tt.wantErr, id)
					}
					if got := backstageerr.NameOf(err); got != tt.wantErr {
						t.Fatalf("error name = %s (%v), want %s", got, err, tt.wantErr)
					}
					if got := backstageerr.MessageOf(err); got != tt.wantMsg {
						t.Fatalf("message =\n  %q\nwant\n  %q", got, tt.wantMsg)
					}
					return
				}
				if err != nil {
					t.Fatalf("unexpected error: %s: %v", backstageerr.NameOf(err), err)
				}
				if id.UserEntityRef != tt.wantUser {
					t.Fatalf("user = %q, want %q", id.UserEntityRef, tt.wantUser)
				}
				wantEnt := tt.wantEnt
				if wantEnt == nil {
					wantEnt = []string{tt.wantUser}
				}
				got := slices.Clone(id.OwnershipEntityRefs)
				slices.Sort(got[1:])
				if !slices.Equal(got, wantEnt) {
					t.Fatalf("ownership = %v, want %v", id.OwnershipEntityRefs, wantEnt)
				}
				if tt.wantCalls != "" {
					calls := itoa(len(fake.finds)) + "/" + itoa(len(fake.getRefs))
					if calls != tt.wantCalls {
						t.Fatalf("catalog calls finds/gets = %s, want %s", calls, tt.wantCalls)
					}
				}
			})
		}
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

func TestChainStopsOnCatalogError(t *testing.T) {
	fake := newFake()
	fake.err = backstageerr.ServiceUnavailable("catalog down")
	r := chain(t, fake, entry{"resolver": profile}, entry{"resolver": localPart})
	_, err := r.Resolve(context.Background(), resolvers.SignInInfo{Email: "alice@example.com"})
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || err.Error() != "catalog down" {
		t.Fatalf("err = %v (%s)", err, backstageerr.NameOf(err))
	}
	if len(fake.getRefs) != 0 || len(fake.finds) != 1 {
		t.Fatalf("the chain went on after a non-NotFound error: finds=%v gets=%v", fake.finds, fake.getRefs)
	}
}

func TestUnresolvedIsErrUnresolvedIdentity(t *testing.T) {
	r := chain(t, newFake(), entry{"resolver": localPart})
	_, err := r.Resolve(context.Background(), resolvers.SignInInfo{Email: "nobody@example.com"})
	if !errors.Is(err, resolvers.ErrUnresolvedIdentity) {
		t.Fatalf("err = %v, want ErrUnresolvedIdentity", err)
	}
	if backstageerr.Status(backstageerr.NameOf(err)) != 500 {
		t.Fatalf("status = %d", backstageerr.Status(backstageerr.NameOf(err)))
	}
}

func TestProfileEmailQueries(t *testing.T) {
	fake := newFake()
	_, _ = chain(t, fake, entry{"resolver": profile}).Resolve(context.Background(), resolvers.SignInInfo{Email: "bob+x@example.com"})
	if len(fake.finds) != 1 || fake.finds[0]["spec.profile.email"] != "bob+x@example.com" {
		t.Fatalf("exact matching looked up %v", fake.finds)
	}
	fake = newFake()
	r := chain(t, fake, entry{"resolver": profile, "matchEmailWithoutPlusTag": true})
	_, _ = r.Resolve(context.Background(), resolvers.SignInInfo{Email: "bob+x@example.com"})
	want := []map[string]string{
		{"spec.profile.email": "bob+x@example.com", "kind": "user"},
		{"spec.profile.email": "bob@example.com", "kind": "user"},
	}
	if len(fake.finds) != len(want) {
		t.Fatalf("finds = %v", fake.finds)
	}
	for i := range want {
		if len(fake.finds[i]) != len(want[i]) {
			t.Fatalf("find %d = %v, want %v", i, fake.finds[i], want[i])
		}
		for k, v := range want[i] {
			if fake.finds[i][k] != v {
				t.Fatalf("find %d = %v, want %v", i, fake.finds[i], want[i])
			}
		}
	}
}

func TestNoCatalog(t *testing.T) {
	r := build(t, nil, map[string]any{"resolvers": []any{
		map[string]any{"resolver": profile},
		map[string]any{"resolver": localPart, "dangerouslyAllowSignInWithoutUserInCatalog": true},
	}})
	id, err := r.Resolve(context.Background(), resolvers.SignInInfo{Email: "zed@example.com"})
	if err != nil || id.UserEntityRef != "user:default/zed" {
		t.Fatalf("id=%+v err=%v", id, err)
	}
}
