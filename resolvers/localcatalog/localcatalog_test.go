package localcatalog

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

var allowOrg = []config.CatalogRule{{Allow: []string{"User", "Group", "Location"}}}

func write(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func userDoc(name, email string, memberOf ...string) string {
	s := "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: " + name + "\nspec:\n  profile:\n    email: " + email + "\n"
	if len(memberOf) > 0 {
		s += "  memberOf: [" + strings.Join(memberOf, ", ") + "]\n"
	}
	return s
}

func groupDoc(name string, members ...string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: " + name + "\nspec:\n  type: team\n  children: []\n  members: [" + strings.Join(members, ", ") + "]\n"
}

func locationDoc(name string, targets ...string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: " + name + "\nspec:\n  targets: [" + strings.Join(targets, ", ") + "]\n"
}

func docs(ds ...string) string { return strings.Join(ds, "---\n") }

func newCat(t *testing.T, dir string, locs []config.CatalogLocation, rules []config.CatalogRule) *Catalog {
	t.Helper()
	c, err := New(Options{Locations: locs, Rules: rules, WorkDir: dir, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func users(t *testing.T, c *Catalog) []string {
	t.Helper()
	all, err := c.FindUsers(context.Background(), map[string]string{"kind": "user"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range all {
		names = append(names, u.Metadata.Name)
	}
	slices.Sort(names)
	return names
}

func problemsContaining(c *Catalog, substr string) []Problem {
	var out []Problem
	for _, p := range c.Problems() {
		if strings.Contains(p.String(), substr) {
			out = append(out, p)
		}
	}
	return out
}

func TestNestedLocationsAndRelations(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "catalog/root.yaml", docs(
		userDoc("alice", "Alice@Example.com", "team-a", "ops/team-b"),
		locationDoc("nested", "./teams/teams.yaml", "people/*.yaml"),
	))
	write(t, dir, "catalog/teams/teams.yaml", docs(
		groupDoc("team-a"),
		groupDoc("team-c", "alice", "user:default/bob"),
		// A cycle back to the root file is reported, not followed.
		locationDoc("back", "../root.yaml"),
	))
	write(t, dir, "catalog/people/bob.yaml", userDoc("bob", "bob@example.com"))
	write(t, dir, "catalog/people/carol.yaml", userDoc("carol", "carol@example.com"))
	c := newCat(t, dir, []config.CatalogLocation{{Type: "file", Target: "catalog/root.yaml"}}, allowOrg)

	if got := users(t, c); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Fatalf("users = %v (problems %v)", got, c.Problems())
	}
	if ps := c.Problems(); len(ps) != 1 || !strings.Contains(ps[0].Message, "Location cycle") {
		t.Fatalf("problems = %v, want one Location cycle", ps)
	}
	found, _ := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "alice@EXAMPLE.com", "kind": "user"})
	if len(found) != 1 {
		t.Fatalf("case-insensitive email lookup found %d", len(found))
	}
	alice := found[0]
	want := []resolvers.Relation{
		{Type: "memberOf", TargetRef: "group:default/team-a"},
		{Type: "memberOf", TargetRef: "group:default/team-c"},
		{Type: "memberOf", TargetRef: "group:ops/team-b"},
	}
	if !slices.Equal(alice.Relations, want) {
		t.Fatalf("relations = %v, want %v", alice.Relations, want)
	}
	if got := resolvers.OwnershipEntityRefs(alice); !slices.Equal(got, []string{"user:default/alice", "group:default/team-a", "group:default/team-c", "group:ops/team-b"}) {
		t.Fatalf("ownership = %v", got)
	}
	if a := alice.Metadata.Annotations["backstage.io/managed-by-location"]; a != "file:"+filepath.Join(dir, "catalog/root.yaml") {
		t.Fatalf("managed-by-location = %q", a)
	}
	bob, err := c.GetEntityByRef(context.Background(), resolvers.EntityRef{Kind: "User", Namespace: "default", Name: "BOB"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bob.Relations, []resolvers.Relation{{Type: "memberOf", TargetRef: "group:default/team-c"}}) {
		t.Fatalf("bob relations = %v", bob.Relations)
	}
	if bob.Metadata.Annotations["backstage.io/managed-by-origin-location"] != "file:"+filepath.Join(dir, "catalog/root.yaml") {
		t.Fatalf("origin = %v", bob.Metadata.Annotations)
	}
	g, err := c.GetEntityByRef(context.Background(), resolvers.EntityRef{Kind: "Group", Name: "team-c"})
	if err != nil || len(g.Relations) != 2 || g.Relations[0].Type != "hasMember" {
		t.Fatalf("team-c = %+v, %v", g, err)
	}
	_, err = c.GetEntityByRef(context.Background(), resolvers.EntityRef{Kind: "User", Name: "nobody"})
	if !backstageerr.IsNotFound(err) {
		t.Fatalf("missing entity err = %v", err)
	}
	// Filters on other keys: annotations and metadata.name.
	if f, _ := c.FindUsers(context.Background(), map[string]string{"metadata.name": "Carol"}); len(f) != 1 {
		t.Fatalf("metadata.name filter found %d", len(f))
	}
	if f, _ := c.FindUsers(context.Background(), map[string]string{"kind": "group"}); len(f) != 0 {
		t.Fatalf("FindUsers returned groups: %v", f)
	}
}

func TestRules(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "org.yaml", docs(userDoc("alice", "alice@example.com", "team-a"), groupDoc("team-a"), locationDoc("more", "more.yaml")))
	write(t, dir, "more.yaml", userDoc("bob", "bob@example.com"))
	write(t, dir, "mixed.yaml", docs(userDoc("carol", "carol@example.com"), "apiVersion: backstage.io/v1alpha1\nkind: Template\nmetadata: {name: t}\nspec: {}\n"))
	loc := func(target string, rules ...config.CatalogRule) config.CatalogLocation {
		return config.CatalogLocation{Type: "file", Target: target, Rules: rules}
	}
	tests := []struct {
		name       string
		locs       []config.CatalogLocation
		rules      []config.CatalogRule
		wantUsers  []string
		wantDenied string // substring of a problem
	}{
		{name: "default rules skip users and groups", locs: []config.CatalogLocation{loc("org.yaml")},
			wantDenied: "user:default/alice, group:default/team-a at file:" + filepath.Join(dir, "org.yaml") + ", originated at file:" + filepath.Join(dir, "org.yaml") + ", is not of an allowed kind for that location"},
		{name: "global rule", locs: []config.CatalogLocation{loc("org.yaml")}, rules: allowOrg, wantUsers: []string{"alice", "bob"}},
		{name: "per-location rule applies to nested files", locs: []config.CatalogLocation{loc("./org.yaml", config.CatalogRule{Allow: []string{"User", "Group"}})},
			wantUsers: []string{"alice", "bob"}},
		{name: "per-location rule only for its location", locs: []config.CatalogLocation{loc("mixed.yaml"), loc("org.yaml", config.CatalogRule{Allow: []string{"User", "Group"}})},
			wantUsers: []string{"alice", "bob"}, wantDenied: "user:default/carol, template:default/t at file:"},
		{name: "one disallowed kind rejects the file", locs: []config.CatalogLocation{loc("mixed.yaml")}, rules: allowOrg,
			wantDenied: "template:default/t at file:"},
		{name: "rule with location pattern", locs: []config.CatalogLocation{loc("org.yaml")},
			rules:     []config.CatalogRule{{Allow: []string{"User", "Group", "Location"}, Locations: []config.CatalogRuleLocation{{Type: "file", Pattern: "./ORG.*"}}}},
			wantUsers: []string{"alice", "bob"}},
		{name: "rule with non-matching target", locs: []config.CatalogLocation{loc("org.yaml")},
			rules:      []config.CatalogRule{{Allow: []string{"User", "Group", "Location"}, Locations: []config.CatalogRuleLocation{{Type: "file", Target: "other.yaml"}}}},
			wantDenied: "not of an allowed kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCat(t, dir, tt.locs, tt.rules)
			if got := users(t, c); !slices.Equal(got, tt.wantUsers) {
				t.Fatalf("users = %v, want %v (problems %v)", got, tt.wantUsers, c.Problems())
			}
			if tt.wantDenied != "" {
				ps := problemsContaining(c, tt.wantDenied)
				if len(ps) != 1 {
					t.Fatalf("problems = %v, want one containing %q", c.Problems(), tt.wantDenied)
				}
				if !strings.Contains(ps[0].Message, "catalog.rules: [{allow: [") {
					t.Fatalf("the problem does not name the rule to add: %s", ps[0])
				}
			} else if ps := c.Problems(); len(ps) > 0 {
				t.Fatalf("unexpected problems %v", ps)
			}
		})
	}
}

func TestUnsupportedLocationTypes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "org.yaml", docs(userDoc("alice", "alice@example.com"),
		"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: remote}\nspec: {type: url, target: https://example.com/users.yaml}\n"))
	c := newCat(t, dir, []config.CatalogLocation{
		{Type: "url", Target: "https://github.com/org/repo/blob/main/users.yaml"},
		{Type: "file", Target: "org.yaml"},
	}, allowOrg)
	if got := users(t, c); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("users = %v", got)
	}
	if ps := problemsContaining(c, `location type "url" (target https://github.com/org/repo/blob/main/users.yaml) is not supported`); len(ps) != 1 {
		t.Fatalf("problems = %v", c.Problems())
	}
	ps := problemsContaining(c, `location target https://example.com/users.yaml of type "url" is not supported`)
	if len(ps) != 1 || ps[0].Document != 2 || ps[0].Entity != "location:default/remote" {
		t.Fatalf("problems = %v", c.Problems())
	}
}

func TestInvalidEntities(t *testing.T) {
	dir := t.TempDir()
	org := write(t, dir, "org.yaml", docs(
		userDoc("alice", "alice@example.com"),                                                               // 1 ok
		"apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {}\nspec: {}\n",                           // 2 no name
		"apiVersion: backstage.io/v1alpha1\nkind: 'Us er'\nmetadata: {name: x}\nspec: {}\n",                 // 3 bad kind
		userDoc("bob", "bob@example.com", "'group:'"),                                                       // 4 bad memberOf ref
		userDoc("Alice", "other@example.com"),                                                               // 5 duplicate (case-insensitive)
		"- just\n- a list\n",                                                                                // 6 not an object
		"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team}\n",         // 7 group without children
		"apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: n, namespace: Bad_NS}\nspec: {}\n", // 8 bad namespace
		userDoc("carol", "carol@example.com"),                                                               // 9 ok
	))
	broken := write(t, dir, "broken.yaml", "apiVersion: x\nkind: User\nmetadata: {name: [unclosed\n")
	c := newCat(t, dir, []config.CatalogLocation{{Type: "file", Target: "org.yaml"}, {Type: "file", Target: "broken.yaml"}, {Type: "file", Target: "missing.yaml"}}, allowOrg)
	if got := users(t, c); !slices.Equal(got, []string{"alice", "carol"}) {
		t.Fatalf("users = %v", got)
	}
	if a, _ := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "alice@example.com"}); len(a) != 1 {
		t.Fatalf("the first alice should win: %v", a)
	}
	want := []struct {
		file   string
		doc    int
		substr string
	}{
		{org, 2, "User entity has no metadata.name"},
		{org, 3, `kind "Us er" is not valid`},
		{org, 4, `spec.memberOf[0]: Entity reference "group:" was not on the form`},
		{org, 6, "expected an object at the root, got a list"},
		{org, 7, "spec.children is required for a Group"},
		{org, 8, `metadata.namespace "Bad_NS" is not valid`},
		{broken, 0, "invalid YAML in document 1"},
		{filepath.Join(dir, "missing.yaml"), 0, "does not exist"},
		{org, 5, "duplicate entity: already defined in " + org + " (document 1)"},
	}
	ps := c.Problems()
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i, w := range want {
		if ps[i].File != w.file || ps[i].Document != w.doc || !strings.Contains(ps[i].Message, w.substr) {
			t.Errorf("problem %d = %+v, want file %s doc %d containing %q", i, ps[i], w.file, w.doc, w.substr)
		}
	}
	if !strings.HasPrefix(ps[0].String(), org+":") || !strings.Contains(ps[0].String(), "(document 2)") {
		t.Errorf("problem string %q should start with file:line and name the document", ps[0].String())
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReloadOnChange(t *testing.T) {
	dir := t.TempDir()
	org := write(t, dir, "org.yaml", docs(userDoc("alice", "alice@example.com"), locationDoc("more", "sub/more.yaml")))
	c := newCat(t, dir, []config.CatalogLocation{{Type: "file", Target: "org.yaml"}}, allowOrg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err == nil {
		t.Fatal("second Start should fail")
	}
	has := func(names ...string) func() bool {
		return func() bool { return slices.Equal(users(t, c), names) }
	}
	if !has("alice")() {
		t.Fatalf("users = %v", users(t, c))
	}

	// A file that did not exist yet (in a directory that did not exist) appears.
	write(t, dir, "org.yaml", docs(userDoc("alice", "alice@example.com"), userDoc("bob", "bob@example.com"), locationDoc("more", "sub/more.yaml")))
	waitFor(t, "bob to appear", has("alice", "bob"))
	write(t, dir, "sub/more.yaml", userDoc("carol", "carol@example.com"))
	waitFor(t, "carol from the nested file", has("alice", "bob", "carol"))

	// A broken save keeps the last good content and reports it.
	if err := os.WriteFile(org, []byte("kind: User\nmetadata: {name: [oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the parse error to be reported", func() bool { return len(problemsContaining(c, "keeping the last version")) == 1 })
	if got := users(t, c); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Fatalf("last good data lost: %v", got)
	}

	// An atomic save (write elsewhere, rename over) is seen too.
	tmp := write(t, dir, "org.yaml.tmp", userDoc("dave", "dave@example.com"))
	if err := os.Rename(tmp, org); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dave to replace everyone", has("dave"))
	if ps := c.Problems(); len(ps) != 0 {
		t.Fatalf("problems after a good save: %v", ps)
	}
}

// TestTargetAndRulePatterns: file targets match as glob's minimatch options make
// them (no dotfiles, backslash is a separator), rule patterns as the catalog's
// minimatch(target, pattern, {nocase: true, dot: true}). Expectations checked with
// Node's minimatch; the old regexp translation got the dotfile, {x} and !( ) cases
// wrong.
func TestTargetAndRulePatterns(t *testing.T) {
	const file, rule = false, true
	tests := []struct {
		pattern, path string
		rule, want    bool
	}{
		{"/a/*.yaml", "/a/b.yaml", file, true},
		{"/a/*.yaml", "/a/b/c.yaml", file, false},
		{"/a/**/*.yaml", "/a/b/c/d.yaml", file, true},
		{"/a/**/*.yaml", "/a/d.yaml", file, true},
		{"/a/{x,y}.yaml", "/a/y.yaml", file, true},
		{"/a/[bc].yaml", "/a/c.yaml", file, true},
		{"/A/*.YAML", "/a/b.yaml", rule, true},
		{"/A/*.YAML", "/a/b.yaml", file, false},
		{"/a/?.yaml", "/a/bb.yaml", file, false},
		{"/a/*.yaml", "/a/.x.yaml", file, false},
		{"/a/*.yaml", "/a/.x.yaml", rule, true},
		{"/a/**/*.yaml", "/a/.git/x.yaml", file, false},
		{"/a/**/*.yaml", "/a/.git/x.yaml", rule, true},
		{"/a/{x}.yaml", "/a/{x}.yaml", file, true},
		{"/a/!(b).yaml", "/a/c.yaml", file, true},
		{"/a/!(b).yaml", "/a/b.yaml", file, false},
		{`\a\*.yaml`, "/a/b.yaml", file, true},
		{"#/a/b.yaml", "#/a/b.yaml", file, true},
		{"/a/[!b]*.yaml", "/a/c.yaml", rule, true},
	}
	for _, tt := range tests {
		var mm *jsrules.Minimatch
		var err error
		if tt.rule {
			mm, err = jsrules.CompileMinimatch(tt.pattern, rulePatternOptions)
		} else {
			mm, err = jsrules.CompileMinimatch(tt.pattern, fileTargetOptions)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := mm.Match(tt.path); got != tt.want {
			t.Errorf("%s ~ %s (rule %v) = %v, want %v", tt.pattern, tt.path, tt.rule, got, tt.want)
		}
	}
}

func TestFileTargetWalk(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"org.yaml", "users/alice.yaml", "users/.hidden.yaml", ".git/x.yaml", "a/b/c.yaml", "a/b/c.yml"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for pattern, want := range map[string][]string{
		"**/*.yaml":               {"a/b/c.yaml", "org.yaml", "users/alice.yaml"},
		"{org,users/alice}.yaml":  {"org.yaml", "users/alice.yaml"},
		"a/**/*.{yaml,yml}":       {"a/b/c.yaml", "a/b/c.yml"},
		"users/*":                 {"users/alice.yaml"},
		"{org,missing}.yaml":      {"org.yaml"},
		"./users/../org.y[a-z]ml": {"org.yaml"},
	} {
		mm, err := compileFileTarget(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		if !isFileTargetPattern(mm) {
			t.Errorf("%s: not a pattern", pattern)
		}
		files, err := matchFiles(mm)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		var rel []string
		for _, f := range files {
			r, _ := filepath.Rel(dir, f)
			rel = append(rel, filepath.ToSlash(r))
		}
		if strings.Join(rel, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", pattern, rel, want)
		}
	}
	for _, plain := range []string{"org.yaml", "org.y[a]ml", "./x/../org.yaml"} {
		mm, _ := compileFileTarget(dir + "/" + plain)
		if isFileTargetPattern(mm) || mm.LiteralPaths()[0] != filepath.ToSlash(filepath.Join(dir, "org.yaml")) {
			t.Errorf("%s: pattern %v, paths %v", plain, isFileTargetPattern(mm), mm.LiteralPaths())
		}
	}
}
