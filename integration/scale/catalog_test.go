package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/localcatalog"
)

// orgSize is a generated organisation: users user-0…, groups team-0… (one per ten
// users), every user memberOf one team and listed as a member of the next one.
type orgSize struct{ users, groups int }

func newOrg(users int) orgSize { return orgSize{users: users, groups: max(1, users/10)} }

// usersPerFile splits the users over files (a file is limited to 16 MiB, and big
// organisations split theirs anyway).
const usersPerFile = 10_000

// write writes the organisation into dir: org.yaml, a Location listing
// users-N.yaml and groups.yaml. It returns the bytes written.
func (o orgSize) write(t testing.TB, dir string) int {
	t.Helper()
	var files []string
	total := 0
	put := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		total += len(data)
	}
	for first := 0; first < o.users; first += usersPerFile {
		var b strings.Builder
		for i := first; i < min(o.users, first+usersPerFile); i++ {
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-%d\n  annotations: {spectrocloud.com/email: user-%d@corp.example}\nspec:\n  profile: {email: user-%d@example.com, displayName: User %d}\n  memberOf: [team-%d]\n", i, i, i, i, i%o.groups)
		}
		name := fmt.Sprintf("users-%d.yaml", first/usersPerFile)
		put(name, b.String())
		files = append(files, "./"+name)
	}
	members := make([][]string, o.groups)
	for i := range o.users {
		g := (i + 1) % o.groups
		members[g] = append(members[g], fmt.Sprintf("user-%d", i))
	}
	var b strings.Builder
	for g := range o.groups {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-%d}\nspec: {type: team, parent: org, children: [], members: [%s]}\n", g, strings.Join(members[g], ", "))
	}
	b.WriteString("---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: org}\nspec: {type: org, children: []}\n")
	put("groups.yaml", b.String())
	files = append(files, "./groups.yaml")
	put("org.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: org}\nspec:\n  targets: ["+strings.Join(files, ", ")+"]\n")
	return total
}

// signInResolvers are the resolvers a sign-in can use, each alone in a chain.
var signInResolvers = []struct {
	name  string
	entry map[string]any
	email func(i int) string
}{
	{"emailMatchingUserEntityProfileEmail", map[string]any{"resolver": resolvers.NameEmailMatchingUserEntityProfileEmail},
		func(i int) string { return fmt.Sprintf("user-%d@example.com", i) }},
	{"emailLocalPartMatchingUserEntityName", map[string]any{"resolver": resolvers.NameEmailLocalPartMatchingUserEntityName},
		func(i int) string { return fmt.Sprintf("user-%d@example.com", i) }},
	{"emailMatchingUserEntityAnnotation", map[string]any{"resolver": resolvers.NameEmailMatchingUserEntityAnnotation},
		func(i int) string { return fmt.Sprintf("user-%d@corp.example", i) }},
	{"expression (filter on profile.email)", map[string]any{"resolver": resolvers.NameExpression, "filter": `{"spec.profile.email": profile.email}`},
		func(i int) string { return fmt.Sprintf("user-%d@example.com", i) }},
}

func buildResolver(t testing.TB, cat resolvers.Catalog, entry map[string]any) resolvers.Resolver {
	t.Helper()
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"signIn": map[string]any{"resolvers": []any{entry}}}).Sub("signIn"),
		resolvers.NewSet(resolvers.EmailAnnotation()))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	return sc.Build(cat)
}

// signIns resolves n users spread over the catalog and checks each answer.
func signIns(t testing.TB, r resolvers.Resolver, org orgSize, n int, email func(int) string) latencies {
	t.Helper()
	ctx := context.Background()
	lat := make(latencies, 0, n)
	for k := range n {
		i := (k * 7919) % org.users // spread over the whole catalog
		want := 3                   // the user, its memberOf team, the team that lists it
		if i%org.groups == (i+1)%org.groups {
			want = 2
		}
		info := resolvers.SignInInfo{ProviderID: "oidc", Email: email(i)}
		start := time.Now()
		id, err := r.Resolve(ctx, info)
		lat = append(lat, time.Since(start))
		if err != nil || id.UserEntityRef != fmt.Sprintf("user:default/user-%d", i) || len(id.OwnershipEntityRefs) != want {
			t.Fatalf("sign-in of user-%d: %+v %v", i, id, err)
		}
	}
	return lat
}

// TestLocalCatalogCurve: start-up (first load) and reload time, memory, and sign-in
// lookup latency per resolver for 10…100k users in catalog.locations files.
func TestLocalCatalogCurve(t *testing.T) {
	header := []string{"users (groups)", "files", "start-up load (wall, CPU)", "reload (wall, CPU)", "heap held", "RSS after load"}
	for _, r := range signInResolvers {
		header = append(header, r.name+" mean / p99")
	}
	var rows [][]string
	for _, n := range sizes(10, 1000, 10_000, 100_000) {
		org := newOrg(n)
		dir := t.TempDir()
		written := org.write(t, dir)
		before := liveHeap()
		start, cpu := time.Now(), cpuTime()
		cat, err := localcatalog.New(localcatalog.Options{
			Locations: []config.CatalogLocation{{Type: "file", Target: "org.yaml"}},
			Rules:     []config.CatalogRule{{Allow: []string{"User", "Group", "Location"}}},
			WorkDir:   dir,
		})
		load, loadCPU := time.Since(start), cpuTime()-cpu
		if err != nil {
			t.Fatal(err)
		}
		if ps := cat.Problems(); len(ps) > 0 {
			t.Fatalf("catalog problems: %v", ps[:min(3, len(ps))])
		}
		held := liveHeap() - min(before, liveHeap())
		resident := rss()
		start, cpu = time.Now(), cpuTime()
		cat.Reload()
		reload, reloadCPU := time.Since(start), cpuTime()-cpu
		row := []string{fmt.Sprintf("%s (%s)", count(n), count(org.groups)), mib(uint64(written)), dur(load) + " (CPU " + dur(loadCPU) + ")", dur(reload) + " (CPU " + dur(reloadCPU) + ")", mib(held), mib(resident)}
		for _, r := range signInResolvers {
			res := buildResolver(t, cat, r.entry)
			signIns(t, res, org, 200, r.email) // warm-up
			lat := signIns(t, res, org, 2000, r.email)
			row = append(row, dur(lat.mean())+" / "+dur(lat.p99()))
			if full() && n >= 100_000 && lat.mean() > 50*time.Millisecond {
				t.Errorf("%s: sign-in takes %s at %d users (the budget is 50 ms)", r.name, lat.mean(), n)
			}
		}
		rows = append(rows, row)
		runtimeKeepAlive(cat)
	}
	table("Local catalog", header, rows)
}
