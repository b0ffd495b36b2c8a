package remotecatalog

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Bodies as the real catalog answered (REFERENCE captures 13, 14, 15).
const (
	aliceJSON   = `{"metadata":{"namespace":"default","annotations":{"backstage.io/managed-by-location":"file:/srv/backstage/catalog/org.yaml"},"name":"alice","uid":"9b2251c0","etag":"bbf6"},"apiVersion":"backstage.io/v1alpha1","kind":"User","spec":{"profile":{"displayName":"Alice Smith","email":"alice@example.com"},"memberOf":["team-a"]},"relations":[{"type":"memberOf","targetRef":"group:default/team-a"}]}`
	missingCred = `{"error":{"name":"AuthenticationError","message":"Missing credentials"},"request":{"method":"GET","url":"/entities"},"response":{"statusCode":401}}`
)

type tokens struct {
	mu      sync.Mutex
	targets []string
	err     error
}

func (ts *tokens) PluginToken(_ context.Context, target string) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.targets = append(ts.targets, target)
	return "plugin-token-for-" + target, ts.err
}

type server struct {
	*httptest.Server
	hits    atomic.Int32
	mu      sync.Mutex
	queries []string
	auths   []string
}

func newServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.queries = append(s.queries, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func answer(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func newClient(t *testing.T, s *server, mod func(*Options)) *Catalog {
	t.Helper()
	o := Options{BaseURL: s.URL + "/api/catalog", Tokens: &tokens{}, Timeout: 2 * time.Second}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var emailQuery = resolvers.CatalogUserQuery{Filter: map[string]string{"spec.profile.email": "alice@example.com"}}

func TestLookups(t *testing.T) {
	tests := []struct {
		name      string
		handler   func(http.ResponseWriter, *http.Request)
		byRef     bool
		wantUser  string
		wantEnt   []string
		wantErr   string
		wantMsg   []string // substrings of the detail (the log)
		public    string   // the user's message
		wantQuery string
	}{
		{name: "user found", handler: answer(200, "["+aliceJSON+"]"), wantUser: "user:default/alice",
			wantEnt: []string{"user:default/alice", "group:default/team-a"}, wantQuery: "/api/catalog/entities?filter=spec.profile.email%3Dalice%40example.com%2Ckind%3Duser"},
		{name: "not found", handler: answer(200, "[]"), wantErr: "NotFoundError", wantMsg: []string{"User not found"}},
		{name: "multiple matches", handler: answer(200, "["+aliceJSON+","+aliceJSON+"]"), wantErr: "ConflictError", wantMsg: []string{"User lookup resulted in multiple matches"}},
		{name: "items wrapper", handler: answer(200, `{"items":[`+aliceJSON+`]}`), wantUser: "user:default/alice", wantEnt: []string{"user:default/alice", "group:default/team-a"}},
		{name: "by name found", byRef: true, handler: answer(200, aliceJSON), wantUser: "user:default/alice",
			wantEnt: []string{"user:default/alice", "group:default/team-a"}, wantQuery: "/api/catalog/entities/by-name/User/default/alice?"},
		{name: "by name 404", byRef: true, handler: answer(404, `{"error":{"name":"NotFoundError","message":"No entity named 'user:default/alice' found"}}`),
			wantErr: "NotFoundError", wantMsg: []string{"User not found"}},
		{name: "catalog 500", handler: answer(500, `{"error":{"name":"Error","message":"database is locked"}}`), wantErr: "ServiceUnavailableError",
			wantMsg: []string{"Catalog lookup at http://127.0.0.1:", "/api/catalog/entities failed: the catalog answered 500 Internal Server Error: Error: database is locked"},
			public:  "Catalog lookup failed: the catalog answered 500 Internal Server Error"},
		{name: "401", handler: answer(401, missingCred), wantErr: "ServiceUnavailableError",
			wantMsg: []string{"the catalog rejected our credentials (401 Unauthorized: AuthenticationError: Missing credentials)"},
			public:  "Catalog lookup failed: the catalog rejected the auth backend's credentials (401 Unauthorized)"},
		{name: "403", handler: answer(403, "nope"), wantErr: "ServiceUnavailableError", wantMsg: []string{"rejected our credentials (403 Forbidden: \"nope\")"}},
		{name: "malformed JSON", handler: answer(200, "<html>\x00\x1b[31m"+strings.Repeat("x", 5000)), wantErr: "ServiceUnavailableError",
			wantMsg: []string{"answered with something that is not a list of entities: \"<html>  [31mxxx", "…\""}},
		{name: "by name garbage", byRef: true, handler: answer(200, `{"hello":1}`), wantErr: "ServiceUnavailableError", wantMsg: []string{"not an entity"},
			public: "Catalog lookup failed: the catalog's answer is not valid"},
		{name: "entity without name", handler: answer(200, `[{"kind":"User","metadata":{}}]`), wantErr: "ServiceUnavailableError", wantMsg: []string{"entity 0 of the catalog's answer has no kind or metadata.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.handler)
			c := newClient(t, s, nil)
			q := emailQuery
			if tt.byRef {
				q = resolvers.CatalogUserQuery{EntityRef: &resolvers.EntityRef{Name: "alice"}}
			}
			id, err := resolvers.SignInWithCatalogUser(context.Background(), c, q, nil)
			if tt.wantErr != "" {
				if backstageerr.NameOf(err) != tt.wantErr {
					t.Fatalf("err = %s %v, want %s", backstageerr.NameOf(err), err, tt.wantErr)
				}
				be, _ := backstageerr.As(err)
				msg := err.Error()
				if be.Detail != "" {
					msg = be.Detail
					// The user's message names no address and no upstream answer.
					if strings.Contains(be.Message, "127.0.0.1") || strings.Contains(be.Message, "database is locked") || strings.Contains(be.Message, "Missing credentials") {
						t.Fatalf("user message leaks internals: %q", be.Message)
					}
				}
				if tt.public != "" && be.Message != tt.public {
					t.Fatalf("user message %q, want %q", be.Message, tt.public)
				}
				for _, m := range tt.wantMsg {
					if !strings.Contains(msg, m) {
						t.Fatalf("detail %q does not contain %q", msg, m)
					}
				}
				if len(msg) > 600 {
					t.Fatalf("detail too long (%d): the upstream body must be truncated", len(msg))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.UserEntityRef != tt.wantUser || strings.Join(id.OwnershipEntityRefs, " ") != strings.Join(tt.wantEnt, " ") {
				t.Fatalf("identity = %+v", id)
			}
			if tt.wantQuery != "" && s.queries[0] != tt.wantQuery {
				t.Fatalf("request = %s, want %s", s.queries[0], tt.wantQuery)
			}
			if s.auths[0] != "Bearer plugin-token-for-catalog" {
				t.Fatalf("Authorization = %q", s.auths[0])
			}
		})
	}
}

func TestStaticTokenAndEncoding(t *testing.T) {
	s := newServer(t, answer(200, "[]"))
	ts := &tokens{}
	c := newClient(t, s, func(o *Options) { o.StaticToken = "static-token"; o.Tokens = ts })
	_, _ = c.FindUsers(context.Background(), map[string]string{"metadata.annotations.spectrocloud.com/email": "a b+c@x.test", "kind": "user"})
	_, _ = c.GetEntityByRef(context.Background(), resolvers.EntityRef{Kind: "user", Name: "we/ird?"})
	want := []string{
		"/api/catalog/entities?filter=metadata.annotations.spectrocloud.com%2Femail%3Da%20b%2Bc%40x.test%2Ckind%3Duser",
		"/api/catalog/entities/by-name/user/default/we%2Fird%3F?",
	}
	if strings.Join(s.queries, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests =\n%s\nwant\n%s", strings.Join(s.queries, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range s.auths {
		if a != "Bearer static-token" {
			t.Fatalf("Authorization = %q", a)
		}
	}
	if len(ts.targets) != 0 {
		t.Fatal("plugin token requested although a static token is set")
	}
}

func TestCommaInFilterRefused(t *testing.T) {
	s := newServer(t, answer(200, "[]"))
	c := newClient(t, s, nil)
	_, err := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "a,kind=group@x.test"})
	if backstageerr.NameOf(err) != backstageerr.NameInput || s.hits.Load() != 0 {
		t.Fatalf("err = %v, hits = %d", err, s.hits.Load())
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := newClient(t, s, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	_, err := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "alice@example.com"})
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || !strings.Contains(err.Error(), "did not answer within 50ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestCallerCancellation(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := newClient(t, s, func(o *Options) { o.Timeout = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	c.waiting = cancel // cancel as soon as the caller waits
	_, err := c.FindUsers(ctx, map[string]string{"spec.profile.email": "alice@example.com"})
	if !errors.Is(err, context.Canceled) || backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable {
		t.Fatalf("err = %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	s := newServer(t, answer(200, "[]"))
	s.Close()
	c := newClient(t, s, nil)
	_, err := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "alice@example.com"})
	be, _ := backstageerr.As(err)
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || be.Message != "Catalog lookup failed: the catalog could not be reached" ||
		!strings.Contains(be.Detail, "could not reach the catalog") || !strings.Contains(be.Detail, s.URL+"/api/catalog/entities") {
		t.Fatalf("err = %v (detail %q)", err, be.Detail)
	}
	// The user's message names neither the catalog's address nor the dial error.
	if strings.Contains(be.Message, "127.0.0.1") || strings.Contains(be.Message, "refused") {
		t.Fatalf("user message leaks internals: %q", be.Message)
	}
}

func TestTokenError(t *testing.T) {
	s := newServer(t, answer(200, "[]"))
	c := newClient(t, s, func(o *Options) { o.Tokens = &tokens{err: errors.New("no signing key")} })
	_, err := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "alice@example.com"})
	be, _ := backstageerr.As(err)
	if !strings.Contains(be.Detail, "could not obtain a plugin token for the catalog: no signing key") || s.hits.Load() != 0 {
		t.Fatalf("err = %v detail %q hits = %d", err, be.Detail, s.hits.Load())
	}
}

func TestCache(t *testing.T) {
	status := atomic.Int32{}
	status.Store(200)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "bob") {
			answer(int(status.Load()), "[]")(w, r)
			return
		}
		answer(int(status.Load()), "["+aliceJSON+"]")(w, r)
	})
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newClient(t, s, func(o *Options) { o.CacheTTL = 10 * time.Second; o.Now = clock })
	find := func(email string) ([]resolvers.Entity, error) {
		return c.FindUsers(context.Background(), map[string]string{"spec.profile.email": email})
	}
	for range 3 {
		if u, err := find("alice@example.com"); err != nil || len(u) != 1 {
			t.Fatalf("find = %v, %v", u, err)
		}
	}
	if h := s.hits.Load(); h != 1 {
		t.Fatalf("hits = %d, want 1 (cached)", h)
	}
	_, _ = find("bob@example.com")
	_, _ = find("bob@example.com") // "not found" is cached too
	if h := s.hits.Load(); h != 2 {
		t.Fatalf("hits = %d, want 2", h)
	}
	advance(11 * time.Second)
	status.Store(500)
	if _, err := find("alice@example.com"); err == nil {
		t.Fatal("expired entry served")
	}
	if _, err := find("alice@example.com"); err == nil || s.hits.Load() != 4 {
		t.Fatalf("errors must not be cached: err=%v hits=%d", err, s.hits.Load())
	}
}

func TestNoCacheWhenTTLZero(t *testing.T) {
	s := newServer(t, answer(200, "["+aliceJSON+"]"))
	c := newClient(t, s, nil)
	for range 2 {
		if _, err := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "alice@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	if s.hits.Load() != 2 {
		t.Fatalf("hits = %d", s.hits.Load())
	}
}

func TestSingleflight(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		answer(200, "["+aliceJSON+"]")(w, r)
	})
	c := newClient(t, s, nil)
	const n = 20
	var joined sync.WaitGroup
	joined.Add(n)
	c.waiting = joined.Done
	var done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			u, err := c.FindUsers(context.Background(), map[string]string{"spec.profile.email": "alice@example.com"})
			if err == nil && len(u) != 1 {
				err = errors.New("wrong answer")
			}
			errs <- err
		}()
	}
	joined.Wait() // every caller is waiting on the one flight
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if h := s.hits.Load(); h != 1 {
		t.Fatalf("hits = %d, want 1", h)
	}
}

func TestNewValidatesBaseURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:7007/api/catalog", "ftp://x/api/catalog", "http:///x"} {
		if _, err := New(Options{BaseURL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
