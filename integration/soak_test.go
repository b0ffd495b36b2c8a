package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockpalette"
)

// The soak: N replicas (real binaries) on one PostgreSQL database reached through a
// TCP proxy the test owns, behind a round-robin balancer of its own, K users signed in
// through the real flow against the mock Palette (behind a second proxy), and a
// closed-loop workload (refresh, userinfo at the balancer and at another replica than
// the issuer, JWKS, token verification against another replica's JWKS, a few new
// sign-ins) while faults are injected one phase after another. It asserts that no
// token fails verification at another replica, no token names the wrong user, no
// valid session is answered 401 outside a fault, sign-in recovers within 5 s of each
// database fault, and SIGTERM loses no request; and it logs per phase: requests,
// errors by kind, p50/p99, recovery, RSS.
//
// It runs with AUTHBACKEND_TEST_PG_DSN, each phase 4 s by default (about a minute in
// all); AUTHBACKEND_SOAK_PHASE=75s makes it a run of more than ten minutes.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak takes about a minute")
	}
	phaseLen := 4 * time.Second
	if v := os.Getenv("AUTHBACKEND_SOAK_PHASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			t.Fatalf("AUTHBACKEND_SOAK_PHASE=%q: want a duration of at least 1s", v)
		}
		phaseLen = d
	}
	const replicas, users, workers = 3, 50, 8
	dsn, prefix := pgPrefix(t)
	pgURL, _ := url.Parse(dsn)
	pgProxy := newTCPProxy(t, pgURL.Host)
	proxied := *pgURL
	proxied.Host = pgProxy.addr

	// The IdP, in process (the test drives its faults), behind a proxy of its own.
	var mockUsers []mockpalette.User
	var org strings.Builder
	verified := true
	for i := range users {
		name := fmt.Sprintf("user%02d", i)
		mockUsers = append(mockUsers, mockpalette.User{Subject: "sub-" + name, Email: name + "@example.com", EmailVerified: &verified, Name: "User " + name})
		fmt.Fprintf(&org, "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: %s\nspec:\n  profile:\n    email: %s@example.com\n  memberOf: []\n---\n", name, name)
	}
	idp := mockpalette.New(mockpalette.Options{Users: mockUsers, LoginForm: true})
	idpSrv := httptest.NewServer(idp.Handler())
	t.Cleanup(idpSrv.Close)
	idpProxy := newTCPProxy(t, strings.TrimPrefix(idpSrv.URL, "http://"))
	idpBase := "http://" + idpProxy.addr

	lb := newBalancer(t)
	var w *soakWorld
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "org.yaml"), []byte(org.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	db := pgDatabaseYAML(t, proxied.String(), prefix)
	reps := make([]*soakReplica, replicas)
	for i := range reps {
		port := freePort(t)
		cfg := fmt.Sprintf(`app:
  baseUrl: http://127.0.0.1:3000
backend:
  baseUrl: %s
  listen:
    host: 127.0.0.1
    port: %d
  database:
    %s
auth:
  session:
    secret: soak-session-secret-0123456789abcdef
  providers:
    spectrocloud:
      development:
        clientId: backstage-client
        clientSecret: backstage-secret
        authorizationUrl: %s/v1/oidc/tenant/t1/auth
        scope: openid profile email
        signIn:
          resolvers:
            - resolver: emailMatchingUserEntityProfileEmail
catalog:
  rules:
    - allow: [User, Group]
  locations:
    - type: file
      target: %s
authbackend:
  shutdown:
    delay: 1s
    gracePeriod: 5s
`, lb.URL, port, db, idpBase, filepath.Join(dir, "org.yaml"))
		path := filepath.Join(dir, fmt.Sprintf("app-config-%d.yaml", i))
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		reps[i] = &soakReplica{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port), cfg: path}
	}
	var wg sync.WaitGroup
	for _, r := range reps {
		wg.Add(1)
		go func() { defer wg.Done(); r.start() }()
	}
	wg.Wait()
	for _, r := range reps {
		lb.add(r.url)
	}
	lb.startHealthChecks(t)

	w = &soakWorld{t: t, lb: lb, reps: reps, idpBase: idpBase, jwks: map[string]*jose.JSONWebKeySet{}}
	w.users = make([]*soakUser, users)
	for i := range users {
		u := &soakUser{name: fmt.Sprintf("user%02d", i)}
		u.ref = "user:default/" + u.name
		w.users[i] = u
		if err := w.signIn(u); err != nil {
			t.Fatalf("initial sign-in of %s: %v", u.name, err)
		}
	}

	type phase struct {
		name   string
		fault  bool // errors are expected while it runs
		inject func()
		heal   func()
		dbHeal bool // measure sign-in recovery after heal
	}
	restart := func(i int, sig syscall.Signal) func() {
		return func() {
			reps[i].stop(sig)
			time.Sleep(phaseLen / 4)
			reps[i].start()
		}
	}
	phases := []phase{
		{name: "baseline"},
		{name: "db-cut", fault: true, inject: func() { pgProxy.set(proxyRefuse) }, heal: func() { pgProxy.set(proxyForward) }, dbHeal: true},
		{name: "db-blackhole", fault: true, inject: func() { pgProxy.set(proxyBlackHole) }, heal: func() { pgProxy.set(proxyForward) }, dbHeal: true},
		{name: "replica-sigkill", fault: true, inject: restart(0, syscall.SIGKILL)},
		{name: "replica-sigterm", inject: restart(1, syscall.SIGTERM)},
		{name: "idp-500", fault: true, inject: func() { idp.SetFault(mockpalette.Fault{Permanent: true, TokenStatus: 500}) }, heal: idp.ClearFault},
		{name: "idp-hang", fault: true, inject: func() { idpProxy.set(proxyBlackHole) }, heal: func() { idpProxy.set(proxyForward) }},
		// The mock withdraws its old key at once: sessions whose ID token it signed can
		// no longer be re-verified and end (401, the frontend signs in again, silently
		// at a real IdP). A refresh 401 of a session signed with the current key is
		// still a failure.
		{name: "idp-key-rotation", inject: func() { w.idpGen.Add(1); idp.RotateKeys() }},
		{name: "after"},
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var workersDone sync.WaitGroup
	for i := range workers {
		workersDone.Add(1)
		go func() {
			defer workersDone.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 42))
			for ctx.Err() == nil {
				w.step(rnd)
			}
		}()
	}
	var report []string
	for _, ph := range phases {
		st := w.beginPhase(ph.name, ph.fault)
		start := time.Now()
		if ph.inject != nil {
			ph.inject()
		}
		if ph.heal != nil {
			time.Sleep(phaseLen / 2)
			ph.heal()
			if ph.dbHeal {
				st.recovery = w.recovery(5 * time.Second)
			}
		}
		if rest := phaseLen - time.Since(start); rest > 0 {
			time.Sleep(rest)
		}
		st.rss = w.rss()
		report = append(report, st.String())
	}
	cancel()
	workersDone.Wait()
	t.Logf("soak: %d replicas, %d users, %d workers, phases of %v\n%s", replicas, users, workers, phaseLen, strings.Join(report, "\n"))

	for _, st := range w.phases {
		if st.recovery < 0 || st.recovery > 5*time.Second {
			t.Errorf("%s: sign-in did not recover within 5 s of the database coming back (%v)", st.name, st.recovery)
		}
		if n := st.count("bad_token") + st.count("wrong_user"); n > 0 {
			t.Errorf("%s: %d tokens failed verification at another replica or named the wrong user", st.name, n)
		}
		if !st.fault {
			if n := st.count("refresh_401"); n > 0 {
				t.Errorf("%s: %d refreshes of valid sessions answered 401 outside a fault window", st.name, n)
			}
			if st.name == "replica-sigterm" {
				if n := st.errors(); n > 0 {
					t.Errorf("%s: %d requests lost or failed during a SIGTERM drain: %v", st.name, n, st.kinds)
				}
			}
		}
		if st.requests == 0 {
			t.Errorf("%s: no requests completed", st.name)
		}
	}
	if t.Failed() {
		for i, r := range reps {
			t.Logf("replica %d output (tail):\n%s", i, tail(r.proc.out.String(), 4000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// soakReplica is one server process that can be killed and started again on its port.
type soakReplica struct {
	t    *testing.T
	url  string
	cfg  string
	mu   sync.Mutex
	proc *process
}

func (r *soakReplica) start() {
	p := startProcess(r.t, "authbackend", []string{"NODE_ENV=production"}, "--config", r.cfg)
	waitHTTP(r.t, p, r.url+"/.backstage/health/v1/liveness")
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
}

func (r *soakReplica) stop(sig syscall.Signal) {
	r.mu.Lock()
	p := r.proc
	r.mu.Unlock()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		r.t.Errorf("replica %s did not exit after %v", r.url, sig)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if sig == syscall.SIGTERM && p.cmd.ProcessState.ExitCode() != 0 {
		r.t.Errorf("replica %s exited %d after SIGTERM", r.url, p.cmd.ProcessState.ExitCode())
	}
}

func (r *soakReplica) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc.cmd.Process.Pid
}

// balancer is a round-robin HTTP load balancer: backends whose readiness fails are
// skipped (all are used when none is ready, as during a database outage), and a
// request whose connection was refused goes to the next backend (it never reached the
// first). The X-Soak-Backend response header names the backend that answered.
type balancer struct {
	URL      string
	mu       sync.Mutex
	backends []string
	ready    []bool
	next     atomic.Uint64
	tr       *http.Transport
}

func newBalancer(t *testing.T) *balancer {
	lb := &balancer{tr: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
	srv := httptest.NewServer(lb)
	t.Cleanup(srv.Close)
	t.Cleanup(lb.tr.CloseIdleConnections)
	lb.URL = srv.URL
	return lb
}

func (lb *balancer) add(u string) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.backends = append(lb.backends, u)
	lb.ready = append(lb.ready, true)
}

func (lb *balancer) startHealthChecks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &http.Client{Timeout: 500 * time.Millisecond}
	go func() {
		for ctx.Err() == nil {
			lb.mu.Lock()
			backends := slices.Clone(lb.backends)
			lb.mu.Unlock()
			for i, b := range backends {
				ok := false
				if resp, err := c.Get(b + "/.backstage/health/v1/readiness"); err == nil {
					ok = resp.StatusCode == 200
					resp.Body.Close()
				}
				lb.mu.Lock()
				lb.ready[i] = ok
				lb.mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

// readyOther is a ready backend other than not, or -1.
func (lb *balancer) readyOther(not int, rnd *rand.Rand) int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	var c []int
	for i, ok := range lb.ready {
		if ok && i != not {
			c = append(c, i)
		}
	}
	if len(c) == 0 {
		return -1
	}
	return c[rnd.IntN(len(c))]
}

// order is the backends to try for one request: round robin over the ready ones (all
// when none is), then the others.
func (lb *balancer) order() []int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	n := len(lb.backends)
	first := int(lb.next.Add(1) % uint64(n))
	var ready, rest []int
	for k := range n {
		i := (first + k) % n
		if lb.ready[i] {
			ready = append(ready, i)
		} else {
			rest = append(rest, i)
		}
	}
	return append(ready, rest...)
}

func (lb *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	for _, i := range lb.order() {
		lb.mu.Lock()
		target := lb.backends[i]
		lb.mu.Unlock()
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		out.Header = r.Header.Clone()
		out.Host = r.Host
		resp, err := lb.tr.RoundTrip(out)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				continue // refused: the request never reached it
			}
			http.Error(w, "upstream error: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Set("X-Soak-Backend", strconv.Itoa(i))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no backend reachable", http.StatusBadGateway)
}

type soakUser struct {
	name, ref string
	mu        sync.Mutex
	busy      bool
	jar       http.CookieJar
	token     string
	issuer    int   // replica that issued token
	idpGen    int64 // the IdP key generation its session's ID token was signed with
}

type soakWorld struct {
	t       *testing.T
	lb      *balancer
	reps    []*soakReplica
	idpBase string
	users   []*soakUser

	mu     sync.Mutex
	cur    *phaseStats
	phases []*phaseStats
	jwks   map[string]*jose.JSONWebKeySet // per replica URL
	idpGen atomic.Int64                   // bumped when the IdP rotates its key
}

type phaseStats struct {
	name      string
	fault     bool
	mu        sync.Mutex
	requests  int
	kinds     map[string]int
	latencies []time.Duration
	recovery  time.Duration // -1: did not recover; 0: not measured
	rss       []int
}

func (w *soakWorld) beginPhase(name string, fault bool) *phaseStats {
	st := &phaseStats{name: name, fault: fault, kinds: map[string]int{}}
	w.mu.Lock()
	w.cur = st
	w.phases = append(w.phases, st)
	w.mu.Unlock()
	return st
}

func (w *soakWorld) phase() *phaseStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

func (st *phaseStats) record(kind string, d time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests++
	if kind != "" {
		st.kinds[kind]++
	}
	st.latencies = append(st.latencies, d)
}

func (st *phaseStats) count(kind string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.kinds[kind]
}

func (st *phaseStats) errors() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, v := range st.kinds {
		n += v
	}
	return n
}

func (st *phaseStats) String() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	l := slices.Clone(st.latencies)
	slices.Sort(l)
	q := func(p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[min(len(l)-1, int(p*float64(len(l))))]
	}
	kinds := make([]string, 0, len(st.kinds))
	for k, v := range st.kinds {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(kinds)
	rec := "-"
	if st.recovery != 0 {
		rec = st.recovery.Round(time.Millisecond).String()
	}
	rss := make([]string, len(st.rss))
	for i, kb := range st.rss {
		rss[i] = fmt.Sprintf("%.1f", float64(kb)/1024)
	}
	return fmt.Sprintf("%-17s requests %6d  errors %-60s p50 %8v  p99 %8v  recovery %6s  RSS MiB %s",
		st.name, st.requests, "["+strings.Join(kinds, " ")+"]", q(0.5).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), rec, strings.Join(rss, "/"))
}

func (w *soakWorld) rss() []int {
	out := make([]int, len(w.reps))
	for i, r := range w.reps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.pid()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				out[i], _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	return out
}

var soakClient = &http.Client{Timeout: 10 * time.Second}

// signIn runs the real popup flow for u through the balancer and the IdP's login
// form, and keeps its cookies and token.
func (w *soakWorld) signIn(u *soakUser) error {
	gen := w.idpGen.Load()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(w.lb.URL + "/api/auth/spectrocloud/start?scope=openid%20profile%20email&origin=" + url.QueryEscape("http://127.0.0.1:3000") + "&flow=popup&env=development")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return fmt.Errorf("start: %d", resp.StatusCode)
	}
	authorize := resp.Header.Get("Location")
	resp, err = c.PostForm(authorize, url.Values{"login_user": {"sub-" + u.name}})
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("callback: %d %s", resp.StatusCode, tail(string(body), 300))
	}
	m := authResponseRE.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("no frame page: %s", tail(string(body), 300))
	}
	decoded, _ := url.PathUnescape(string(m[1]))
	var msg map[string]any
	if err := json.Unmarshal([]byte(decoded), &msg); err != nil {
		return err
	}
	if msg["error"] != nil {
		return fmt.Errorf("sign-in error: %v", msg["error"])
	}
	token, _ := dig(msg, "response", "backstageIdentity", "token").(string)
	if token == "" {
		return fmt.Errorf("no token in %s", decoded)
	}
	issuer, _ := strconv.Atoi(resp.Header.Get("X-Soak-Backend"))
	u.mu.Lock()
	u.jar, u.token, u.issuer, u.idpGen = jar, token, issuer, gen
	u.mu.Unlock()
	return w.checkToken(token, u.ref, issuer)
}

// errWrongUser and errBadToken are the outcomes the soak must never see.
var (
	errWrongUser = errors.New("wrong_user")
	errBadToken  = errors.New("bad_token")
)

// checkToken verifies token against the JWKS of a replica other than issuer (fetched
// again when the kid is unknown), and its subject.
func (w *soakWorld) checkToken(token, wantSub string, issuer int) error {
	i := w.lb.readyOther(issuer, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1)))
	if i < 0 {
		i = (issuer + 1) % len(w.reps)
	}
	other := w.reps[i].url
	kid, err := jwsKID(token)
	if err != nil {
		return errBadToken
	}
	w.mu.Lock()
	set := w.jwks[other]
	w.mu.Unlock()
	if set == nil || len(set.Key(kid)) == 0 {
		resp, err := soakClient.Get(other + "/api/auth/.well-known/jwks.json")
		if err != nil {
			return fmt.Errorf("net: %w", err) // the other replica is down: not a verification failure
		}
		var fresh jose.JSONWebKeySet
		err = json.NewDecoder(resp.Body).Decode(&fresh)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("net: jwks %d", resp.StatusCode)
		}
		set = &fresh
		w.mu.Lock()
		w.jwks[other] = set
		w.mu.Unlock()
	}
	keys := set.Key(kid)
	if len(keys) == 0 {
		return errBadToken
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return errBadToken
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		return errBadToken
	}
	var c backstageClaims
	if json.Unmarshal(payload, &c) != nil {
		return errBadToken
	}
	if c.Sub != wantSub {
		return errWrongUser
	}
	return nil
}

// step is one operation of the closed loop, on a user no other worker holds.
func (w *soakWorld) step(rnd *rand.Rand) {
	u := w.users[rnd.IntN(len(w.users))]
	u.mu.Lock()
	if u.busy {
		u.mu.Unlock()
		return
	}
	u.busy = true
	jar, token, issuer, gen := u.jar, u.token, u.issuer, u.idpGen
	u.mu.Unlock()
	defer func() { u.mu.Lock(); u.busy = false; u.mu.Unlock() }()

	st := w.phase()
	if st == nil { // the workers start a moment before the first phase
		time.Sleep(time.Millisecond)
		return
	}
	start := time.Now()
	kind := ""
	switch p := rnd.IntN(100); {
	case p < 60: // refresh through the balancer, then check the new token at another replica
		kind = w.refresh(u, jar)
		if kind == "refresh_401" {
			if gen != w.idpGen.Load() {
				kind = "refresh_401_withdrawn_idp_key"
			}
			// The frontend signs in again.
			_ = w.signIn(u)
		}
	case p < 75: // userinfo at another (ready) replica than the issuer: it verifies the token itself
		other := w.lb.readyOther(issuer, rnd)
		if other < 0 {
			return
		}
		kind = w.userinfo(w.reps[other].url, token, u.ref)
	case p < 85:
		kind = w.userinfo(w.lb.URL, token, u.ref)
	case p < 95:
		resp, err := soakClient.Get(w.lb.URL + "/api/auth/.well-known/jwks.json")
		kind = httpKind("jwks", resp, err)
	default: // a new sign-in
		if err := w.signIn(u); err != nil {
			kind = classify("sign_in", err)
		}
	}
	st.record(kind, time.Since(start))
}

func (w *soakWorld) refresh(u *soakUser, jar http.CookieJar) string {
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, w.lb.URL+"/api/auth/spectrocloud/refresh?optional&scope=openid%20profile%20email&env=development", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := c.Do(req)
	if err != nil {
		return "refresh_net"
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 401 {
		return "refresh_401"
	}
	if resp.StatusCode != 200 {
		return "refresh_" + strconv.Itoa(resp.StatusCode)
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return "bad_token"
	}
	token, _ := dig(m, "backstageIdentity", "token").(string)
	issuer, _ := strconv.Atoi(resp.Header.Get("X-Soak-Backend"))
	if err := w.checkToken(token, u.ref, issuer); err != nil {
		return classify("verify", err)
	}
	u.mu.Lock()
	u.token, u.issuer = token, issuer
	u.mu.Unlock()
	return ""
}

func (w *soakWorld) userinfo(base, token, wantSub string) string {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/v1/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := soakClient.Do(req)
	if k := httpKind("userinfo", resp, err); k != "" {
		return k
	}
	var m map[string]any
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if err != nil {
		return "userinfo_bad_json"
	}
	if dig(m, "claims", "sub") != wantSub {
		return "wrong_user"
	}
	return ""
}

// httpKind is "" for a 200 (the body left to read), else the error kind (body closed).
func httpKind(op string, resp *http.Response, err error) string {
	if err != nil {
		return op + "_net"
	}
	if resp.StatusCode == 200 {
		return ""
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return op + "_" + strconv.Itoa(resp.StatusCode)
}

func classify(op string, err error) string {
	switch {
	case errors.Is(err, errWrongUser):
		return "wrong_user"
	case errors.Is(err, errBadToken):
		return "bad_token"
	case strings.HasPrefix(err.Error(), "net:"):
		return op + "_net"
	}
	return op + "_failed"
}

// recovery is how long after a database fault ended a new sign-in (which writes the
// session record) succeeds again; -1 when not within bound.
func (w *soakWorld) recovery(bound time.Duration) time.Duration {
	start := time.Now()
	probe := &soakUser{name: "user00", ref: "user:default/user00"}
	for time.Since(start) < bound {
		if w.signIn(probe) == nil {
			return max(time.Since(start), time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1
}
