package scale

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers/remotecatalog"
)

// stubCatalog answers the two catalog REST calls the remote catalog makes, from
// indexes over a generated organisation (its own cost is a map lookup), and counts
// the requests.
type stubCatalog struct {
	byEmail, byAnnotation, byName map[string]int
	org                           orgSize
	requests                      atomic.Int64
}

func newStubCatalog(org orgSize) *stubCatalog {
	s := &stubCatalog{org: org, byEmail: map[string]int{}, byAnnotation: map[string]int{}, byName: map[string]int{}}
	for i := range org.users {
		s.byEmail[fmt.Sprintf("user-%d@example.com", i)] = i
		s.byAnnotation[fmt.Sprintf("user-%d@corp.example", i)] = i
		s.byName[fmt.Sprintf("user-%d", i)] = i
	}
	return s
}

func (s *stubCatalog) entity(i int) resolvers.Entity {
	return resolvers.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "User",
		Metadata: resolvers.EntityMetadata{Name: fmt.Sprintf("user-%d", i), Namespace: "default",
			Annotations: map[string]string{"spectrocloud.com/email": fmt.Sprintf("user-%d@corp.example", i)}},
		Spec: map[string]any{"profile": map[string]any{"email": fmt.Sprintf("user-%d@example.com", i)}, "memberOf": []any{fmt.Sprintf("team-%d", i%s.org.groups)}},
		Relations: []resolvers.Relation{
			{Type: "memberOf", TargetRef: fmt.Sprintf("group:default/team-%d", i%s.org.groups)},
			{Type: "memberOf", TargetRef: fmt.Sprintf("group:default/team-%d", (i+1)%s.org.groups)},
		}}
}

func (s *stubCatalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	if name, ok := strings.CutPrefix(strings.ToLower(r.URL.Path), "/api/catalog/entities/by-name/user/default/"); ok {
		i, found := s.byName[name]
		if !found {
			http.Error(w, `{"error":{"name":"NotFoundError","message":"not found"}}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(s.entity(i))
		return
	}
	if r.URL.Path != "/api/catalog/entities" {
		http.NotFound(w, r)
		return
	}
	out := []resolvers.Entity{}
	for _, pair := range strings.Split(r.URL.Query().Get("filter"), ",") {
		k, v, _ := strings.Cut(pair, "=")
		var idx map[string]int
		switch strings.ToLower(k) {
		case "spec.profile.email":
			idx = s.byEmail
		case "metadata.annotations.spectrocloud.com/email":
			idx = s.byAnnotation
		default:
			continue
		}
		if i, ok := idx[strings.ToLower(v)]; ok {
			out = append(out, s.entity(i))
		}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// TestRemoteCatalogCurve: sign-in latency against a catalog over HTTP, with a cold
// lookup cache (first sign-in of each user) and a warm one (the same users again
// within the cache TTL), and the catalog requests each sign-in costs.
func TestRemoteCatalogCurve(t *testing.T) {
	header := []string{"users", "resolver", "cold mean / p99", "warm mean / p99", "catalog requests per sign-in (cold / warm)"}
	var rows [][]string
	for _, n := range sizes(10, 1000, 10_000, 100_000) {
		org := newOrg(n)
		stub := newStubCatalog(org)
		srv := httptest.NewServer(stub)
		for _, r := range signInResolvers {
			cat, err := remotecatalog.New(remotecatalog.Options{BaseURL: srv.URL + "/api/catalog", StaticToken: "scale",
				CacheTTL: 10 * time.Minute, CacheSize: remotecatalog.DefaultCacheSize})
			if err != nil {
				t.Fatal(err)
			}
			res := buildResolver(t, cat, r.entry)
			lookups := min(n, 500) // distinct users: each is a cold lookup once
			stub.requests.Store(0)
			cold := signIns(t, res, org, lookups, r.email)
			coldReq := float64(stub.requests.Load()) / float64(lookups)
			stub.requests.Store(0)
			warm := signIns(t, res, org, lookups, r.email)
			warmReq := float64(stub.requests.Load()) / float64(lookups)
			if warmReq != 0 {
				t.Errorf("%s: %.2f catalog requests per warm sign-in, want 0", r.name, warmReq)
			}
			rows = append(rows, []string{count(n), r.name, dur(cold.mean()) + " / " + dur(cold.p99()), dur(warm.mean()) + " / " + dur(warm.p99()),
				fmt.Sprintf("%.1f / %.1f", coldReq, warmReq)})
		}
		srv.Close()
	}
	table("Remote catalog (stub catalog over loopback HTTP)", header, rows)
}
