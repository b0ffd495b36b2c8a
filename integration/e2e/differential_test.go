package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// The differential harness: one provider sign-in run through the stock Node auth backend
// with the real provider module and through our server, both inside one vendornet
// namespace against the same vendor stub, with the same app-config and the same
// catalog. Everything a legitimate client sees is compared: the redirect hops, the
// authorize request's parameters, every Set-Cookie's name and attributes, the
// authorization_response (profile exactly, providerInfo and backstageIdentity with
// their random values replaced by their kind, the Backstage token's claims), /refresh and
// /logout. A case lists the differences that are deliberate, each with its reason (the
// README's list of deliberate differences); an undeclared difference fails, and so does a
// declared one that did not happen, so the list cannot go stale.
//
// Use it from a provider's own test file:
//
//	func TestDifferentialGitLab(t *testing.T) {
//		runDifferential(t, diffCase{provider: "gitlab", module: "gitlab", ...})
//	}

// diffCase is one provider, one environment, one user.
type diffCase struct {
	// provider is the auth.providers key and route segment; module the
	// E2E_AUTH_MODULES entry that loads the Node module (package suffix).
	provider, module string
	// config is auth.providers.<provider>.development for both servers (without
	// signIn when signIn is set). ourConfig and nodeConfig add keys only one has.
	config, ourConfig, nodeConfig m
	// signIn is the environment's signIn block (default: the org's users by name);
	// noSignIn leaves it out (no resolver: the response has no backstageIdentity).
	signIn   m
	noSignIn bool
	// stub answers for the vendor hosts (mockvendor's Handler, or a test's own); hosts
	// are vendor hosts beyond vendornet.KnownHosts (an Okta org, an Auth0 domain).
	stub  http.Handler
	hosts []string
	// orgYAML is the catalog both servers read (default diffOrgYAML).
	orgYAML string
	// scope, when set, is the /start request's scope parameter; query adds other
	// /start parameters (pinniped's audience).
	scope string
	query url.Values
	// beforeSignIn, when set, runs before each sign-in (e.g. choosing the stub's user).
	beforeSignIn func(t *testing.T)
	// nodeEnv adds environment variables to the Node process.
	nodeEnv []string
	// deliberate maps a comparison key (as a failure prints it) to why we differ.
	deliberate map[string]string
	// skipLogout and skipRefresh leave those steps out (a provider without them).
	skipRefresh, skipLogout bool
}

// diffOrgYAML is the default catalog: mockvendor's default users alice and bob.
const diffOrgYAML = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
  annotations:
    github.com/user-login: alice
spec:
  profile: {displayName: Alice Smith, email: alice@example.com}
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: bob
spec:
  profile: {displayName: Bob Jones, email: bob@example.com}
  memberOf: [team-b]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
`

const diffAppURL = "http://app.e2e.test:3000"

// exchange is one HTTP round trip the client made, with what we compare of it.
type exchange struct {
	Method, URL string
	Status      int
	Location    string
	SetCookies  []*http.Cookie
}

// recordingTransport keeps every exchange of a client.
type recordingTransport struct {
	rt http.RoundTripper
	mu sync.Mutex
	ex []exchange
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.ex = append(r.ex, exchange{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode,
		Location: resp.Header.Get("Location"), SetCookies: resp.Cookies()})
	r.mu.Unlock()
	return resp, nil
}

func (r *recordingTransport) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	ex := r.ex
	r.ex = nil
	return ex
}

// diffRun is what one server answered, normalised for comparison: key -> value.
type diffRun struct {
	base string
	obs  map[string]string
}

func (d *diffRun) set(key string, v any) {
	switch s := v.(type) {
	case string:
		d.obs[key] = s
	default:
		b, _ := json.Marshal(v)
		d.obs[key] = string(b)
	}
}

// runDifferential starts both servers for c, signs in through each, refreshes and logs
// out, and compares.
func runDifferential(t *testing.T, c diffCase) {
	t.Helper()
	h := requireE2E(t)
	vn := vendornet.New(t, c.hosts...)
	logDir, dir := h.logDir(t), t.TempDir()
	vn.Listen443(c.stub)
	org := c.orgYAML
	if org == "" {
		org = diffOrgYAML
	}
	orgPath := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(orgPath, []byte(org), 0o644); err != nil {
		t.Fatal(err)
	}
	signIn := c.signIn
	if signIn == nil {
		signIn = m{"resolvers": []any{m{"resolver": "emailMatchingUserEntityProfileEmail"}}}
	}
	secret := "e2e-session-" + randHex(t, 16)
	providerCfg := func(extra m) m {
		env := maps.Clone(c.config)
		maps.Copy(env, extra)
		if !c.noSignIn {
			env["signIn"] = signIn
		}
		return m{c.provider: m{"development": env}}
	}
	common := func(base string, port int) m {
		return m{
			"app": m{"baseUrl": diffAppURL},
			"catalog": m{
				"rules":     []any{m{"allow": []any{"User", "Group", "Location"}}},
				"locations": []any{m{"type": "file", "target": orgPath}},
			},
			"backend": m{"baseUrl": base, "listen": m{"host": vn.Addr(), "port": port}},
		}
	}

	nodePort, ourPort := vn.Port(), vn.Port()
	node := &diffRun{base: vn.URL(nodePort), obs: map[string]string{}}
	ours := &diffRun{base: vn.URL(ourPort), obs: map[string]string{}}

	nodeCfg := common(node.base, nodePort)
	nodeCfg["backend"].(m)["database"] = m{"client": "better-sqlite3", "connection": ":memory:"}
	nodeCfg["auth"] = m{"environment": "development", "session": m{"secret": secret}, "providers": providerCfg(c.nodeConfig)}
	spec := nodeBackendSpec(h, "node-"+c.provider, "auth-modules", writeYAML(t, dir, "node.yaml", nodeCfg),
		append([]string{"E2E_AUTH_MODULES=" + c.module, "E2E_BACKEND_EXTRA=catalog"}, c.nodeEnv...))
	spec.netns = vn
	nodeProc := startProc(t, logDir, spec)

	ourCfg := common(ours.base, ourPort)
	ourCfg["backend"].(m)["database"] = m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}}
	ourCfg["auth"] = m{"environment": "development", "session": m{"secret": secret}, "providers": providerCfg(c.ourConfig)}
	ourProc := startProc(t, logDir, procSpec{
		name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir, netns: vn,
		args: []string{"--config", writeYAML(t, dir, "ours.yaml", ourCfg)},
	})
	waitHTTP(t, ourProc, ours.base+readyPath, nil, 200, 30*time.Second)
	waitHTTP(t, nodeProc, node.base+readyPath, nil, 200, 90*time.Second)

	for _, run := range []*diffRun{node, ours} {
		c.observe(t, vn, run, run == node)
	}
	compareRuns(t, c, node, ours)
}

// observe runs the flows against one server and records what it saw.
func (c diffCase) observe(t *testing.T, vn *vendornet.Net, run *diffRun, isNode bool) {
	t.Helper()
	rec := &recordingTransport{rt: vn.Client().Transport}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Timeout: 30 * time.Second, Transport: rec, Jar: jar}
	authBase := run.base + "/api/auth/" + c.provider
	q := url.Values{"env": {"development"}, "origin": {diffAppURL}, "flow": {"popup"}}
	if c.scope != "" {
		q.Set("scope", c.scope)
	}
	for k, vs := range c.query {
		q[k] = vs
	}
	var r httpResult
	// Node's catalog ingests org.yaml a few seconds after it starts: retry while the
	// sign-in fails for want of the user.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c.beforeSignIn != nil {
			c.beforeSignIn(t)
		}
		// Each attempt is a fresh browser: a session cookie set by a failed attempt
		// (Node's connect.sid) would otherwise not be set again, and the cookies compared
		// would depend on how soon Node's catalog was ready.
		client.Jar, _ = cookiejar.New(nil)
		rec.take()
		r = doHTTP(t, client, http.MethodGet, authBase+"/start?"+strings.ReplaceAll(q.Encode(), "+", "%20"), nil, nil)
		if !isNode || time.Now().After(deadline) || !catalogNotReady(r.Body) {
			break
		}
		time.Sleep(time.Second)
	}
	ex := rec.take()
	norm := func(s string) string { return strings.ReplaceAll(s, run.base, "{base}") }

	// The hops, and the authorize request's parameters (the first vendor hop).
	var hops []string
	for i, e := range ex {
		u, _ := url.Parse(e.URL)
		hops = append(hops, fmt.Sprintf("%s %s -> %d", e.Method, norm(u.Scheme+"://"+u.Host+u.Path), e.Status))
		step := fmt.Sprintf("signin[%d]", i)
		run.set(step+" cookies", cookieShapes(e.SetCookies))
		if !strings.HasPrefix(e.URL, run.base) && strings.Contains(e.URL, "?") && run.obs["authorize params"] == "" {
			run.set("authorize params", queryShape(u.Query(), run.base))
		}
	}
	run.set("signin hops", hops)
	msg, err := frameMessage(r.Body)
	if err != nil {
		run.set("signin response", fmt.Sprintf("%d %s", r.Status, err))
		return
	}
	run.set("signin response", normalizeAuthResponse(msg))

	if !c.skipRefresh {
		hdr := http.Header{"X-Requested-With": {"XMLHttpRequest"}}
		rr := doHTTP(t, client, http.MethodGet, authBase+"/refresh?env=development", hdr, nil)
		run.set("refresh status", rr.Status)
		var v any
		if json.Unmarshal(rr.Body, &v) == nil {
			run.set("refresh body", normalizeAuthResponse(v))
		} else {
			run.set("refresh body", "not JSON")
		}
		for i, e := range rec.take() {
			run.set(fmt.Sprintf("refresh[%d] cookies", i), cookieShapes(e.SetCookies))
		}
	}
	if !c.skipLogout {
		hdr := http.Header{"X-Requested-With": {"XMLHttpRequest"}, "Origin": {diffAppURL}}
		rr := doHTTP(t, client, http.MethodPost, authBase+"/logout?env=development", hdr, nil)
		run.set("logout status", rr.Status)
		for i, e := range rec.take() {
			run.set(fmt.Sprintf("logout[%d] cookies", i), cookieShapes(e.SetCookies))
		}
	}
}

// catalogNotReady: Node's answer to a sign-in whose user the catalog does not hold yet.
func catalogNotReady(body []byte) bool {
	return strings.Contains(string(body), "NotFoundError") || strings.Contains(string(body), "unable%20to%20resolve%20user%20identity") ||
		strings.Contains(string(body), "unable to resolve user identity")
}

// compareRuns fails on every undeclared difference and on every declared one that did
// not happen.
func compareRuns(t *testing.T, c diffCase, node, ours *diffRun) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(node.obs))
	for k := range ours.obs {
		if _, ok := node.obs[k]; !ok {
			keys = append(keys, k)
		}
	}
	differs := map[string]bool{}
	for _, k := range keys {
		if node.obs[k] == ours.obs[k] {
			continue
		}
		differs[k] = true
		if why, ok := c.deliberate[k]; ok {
			t.Logf("deliberate difference %q (%s):\n  node: %s\n  ours: %s", k, why, node.obs[k], ours.obs[k])
			continue
		}
		t.Errorf("%s differs:\n  node: %s\n  ours: %s", k, node.obs[k], ours.obs[k])
	}
	for k := range c.deliberate {
		if !differs[k] {
			t.Errorf("declared deliberate difference %q did not happen (both: %s)", k, node.obs[k])
		}
	}
	if t.Failed() {
		for _, k := range slices.Sorted(maps.Keys(node.obs)) {
			t.Logf("node %s = %s", k, node.obs[k])
		}
	}
}

// frameMessage decodes the message a handler/frame page posts to its opener.
func frameMessage(page []byte) (any, error) {
	mt := frameResponseRE.FindSubmatch(page)
	if mt == nil {
		return nil, fmt.Errorf("no authResponse in %q", truncate(page, 300))
	}
	raw, err := url.PathUnescape(string(mt[1]))
	if err != nil {
		return nil, err
	}
	var v any
	return v, json.Unmarshal([]byte(raw), &v)
}

var jwtRE = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)

// normalizeAuthResponse replaces what is random per sign-in by its kind: a JWT by its
// header's alg/typ and its claims' names (the Backstage token's sub and ent by value),
// other strings under providerInfo but its scope by "<string>", numbers of seconds by their rounding
// to a minute.
func normalizeAuthResponse(v any) any {
	var walk func(path string, v any) any
	walk = func(path string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				out[k] = walk(path+"."+k, e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(path, e)
			}
			return out
		case string:
			if jwtRE.MatchString(x) {
				return jwtShape(x, strings.HasSuffix(path, "backstageIdentity.token"))
			}
			if strings.HasSuffix(path, "providerInfo.scope") {
				return x // granted scopes are compared by value
			}
			if strings.Contains(path, "providerInfo.") || strings.HasSuffix(path, ".token") {
				return "<string>"
			}
			return x
		case float64:
			if strings.HasSuffix(path, "expiresInSeconds") {
				return fmt.Sprintf("~%dm", int(x+30)/60)
			}
			return x
		}
		return v
	}
	return walk("", v)
}

func jwtShape(tok string, claimsByValue bool) any {
	parts := strings.Split(tok, ".")
	dec := func(s string) map[string]any {
		b, _ := base64.RawURLEncoding.DecodeString(s)
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		return v
	}
	hdr, claims := dec(parts[0]), dec(parts[1])
	names := slices.Sorted(maps.Keys(claims))
	shape := map[string]any{"jwt": names, "alg": hdr["alg"], "typ": hdr["typ"]}
	if claimsByValue {
		shape["sub"], shape["ent"] = claims["sub"], claims["ent"]
		if exp, ok := claims["exp"].(float64); ok {
			if iat, ok := claims["iat"].(float64); ok {
				shape["lifetime"] = exp - iat
			}
		}
	}
	return shape
}

// cookieShapes is each Set-Cookie's name and attributes (its value only as
// empty/non-empty), sorted.
func cookieShapes(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		attrs := []string{c.Name}
		if c.Value == "" {
			attrs = append(attrs, "value=")
		}
		if c.Path != "" {
			attrs = append(attrs, "Path="+c.Path)
		}
		if c.Domain != "" {
			attrs = append(attrs, "Domain="+c.Domain)
		}
		switch {
		case c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())):
			attrs = append(attrs, "expired")
		case c.MaxAge > 0:
			attrs = append(attrs, fmt.Sprintf("Max-Age~%dm", (c.MaxAge+30)/60))
		case !c.Expires.IsZero():
			attrs = append(attrs, fmt.Sprintf("Expires~%dm", int(time.Until(c.Expires).Seconds()+30)/60))
		}
		if c.HttpOnly {
			attrs = append(attrs, "HttpOnly")
		}
		if c.Secure {
			attrs = append(attrs, "Secure")
		}
		switch c.SameSite {
		case http.SameSiteLaxMode:
			attrs = append(attrs, "SameSite=Lax")
		case http.SameSiteStrictMode:
			attrs = append(attrs, "SameSite=Strict")
		case http.SameSiteNoneMode:
			attrs = append(attrs, "SameSite=None")
		}
		out = append(out, strings.Join(attrs, "; "))
	}
	sort.Strings(out)
	return out
}

// randomParams are authorize parameters whose values are random per request.
var randomParams = map[string]bool{"state": true, "nonce": true, "code_challenge": true}

// queryShape is an authorize request's parameters: random ones by name only, the rest
// by value with the server's base URL replaced.
func queryShape(q url.Values, base string) []string {
	var out []string
	for k, vs := range q {
		if randomParams[k] {
			out = append(out, k+"=<random>")
			continue
		}
		for _, v := range vs {
			out = append(out, k+"="+strings.ReplaceAll(v, base, "{base}"))
		}
	}
	sort.Strings(out)
	return out
}

// TestDifferentialGitHub runs the harness on the GitHub module with mockvendor's GitHub
// personality as github.com and api.github.com.
func TestDifferentialGitHub(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.GitHub, ClientID: "e2e-gh-client", ClientSecret: "e2e-gh-secret"})
	runDifferential(t, diffCase{
		provider: "github", module: "github",
		config: m{"clientId": "e2e-gh-client", "clientSecret": "e2e-gh-secret"},
		stub:   vendornet.HostMux{"github.com": stub.Handler(), "api.github.com": stub.Handler()},
		deliberate: map[string]string{
			"authorize params":   "we send S256 PKCE, which GitHub accepts and Backstage does not send",
			"signin[2] cookies":  "the nonce cookie is cleared after a successful callback, so a callback URL works once; cookie lifetime capped at 400 days",
			"refresh[0] cookies": "a refresh that changes nothing sets no cookie (Backstage re-sets the granted-scope cookie)",
		},
	})
}
