package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
)

// vendorBrowserCase is one vendor client of core-app-api signing in through us.
type vendorBrowserCase struct {
	provider string // auth.providers key, route segment and the page's ?provider=
	config   m      // auth.providers.<provider>.development (signIn added)
	stub     *mockvendor.Server
	hosts    []string // the vendor hosts the stub answers for
	// tokenPath is the stub's token endpoint; authorizeHop the vendor URL prefix the
	// popup must pass through.
	tokenPath, authorizeHop string
	wantPicture             func(string) bool
}

// vendorBrowserState is window.__e2e with the fields the vendor page adds.
type vendorBrowserState struct {
	browserState
	Provider    string `json:"provider"`
	AccessToken string `json:"accessToken"`
	Profile     *struct {
		Email       string `json:"email"`
		DisplayName string `json:"displayName"`
		Picture     string `json:"picture"`
	} `json:"profile"`
}

type vendorBrowserReport struct {
	browserReport
	Steps struct {
		Initial             vendorBrowserState `json:"initial"`
		Popup               vendorBrowserState `json:"popup"`
		Reload              vendorBrowserState `json:"reload"`
		Signout             vendorBrowserState `json:"signout"`
		RefreshAfterSignout fetchResult        `json:"refreshAfterSignout"`
		ReloadAfterSignout  vendorBrowserState `json:"reloadAfterSignout"`
		RedirectInitial     vendorBrowserState `json:"redirectInitial"`
		Redirect            vendorBrowserState `json:"redirect"`
	} `json:"steps"`
}

// vendorTokenRecorder keeps the access tokens the stub's token endpoint issued.
type vendorTokenRecorder struct {
	next http.Handler
	path string
	mu   sync.Mutex
	got  []string
}

type vendorTokenTee struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *vendorTokenTee) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (r *vendorTokenRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, r.path) {
		r.next.ServeHTTP(w, req)
		return
	}
	tw := &vendorTokenTee{ResponseWriter: w}
	r.next.ServeHTTP(tw, req)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	tok := ""
	if json.Unmarshal(tw.buf.Bytes(), &body) == nil {
		tok = body.AccessToken
	} else if q, err := url.ParseQuery(tw.buf.String()); err == nil {
		tok = q.Get("access_token")
	}
	if tok != "" {
		r.mu.Lock()
		r.got = append(r.got, tok)
		r.mu.Unlock()
	}
}

func (r *vendorTokenRecorder) issued() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// runVendorBrowser is issue 9's browser item: the page uses the real GithubAuth or
// MicrosoftAuth client, our server signs in against mockvendor answering as the
// vendor's hard-coded hosts. Chromium, our server and the page all run where the
// vendor names resolve to the stub (a vendornet namespace); Chromium trusts only the
// stub's certificate, pinned by its SPKI hash (it ignores SSL_CERT_FILE).
func runVendorBrowser(t *testing.T, c vendorBrowserCase) {
	h := requireE2E(t)
	vn := vendornet.New(t)
	logDir, dir := h.logDir(t), t.TempDir()
	rec := &vendorTokenRecorder{next: c.stub.Handler(), path: c.tokenPath}
	mux := vendornet.HostMux{}
	for _, host := range c.hosts {
		mux[host] = rec
	}
	vn.Listen443(mux)

	// The page server (the test's) and our server (inside) are both reached at the
	// vendor address from inside: same site, different origins, as in the existing
	// cross-origin test, so the refresh cookie rides the credentialed CORS fetch.
	var pageCfg sync.Map
	pageLn := vn.Listener(0)
	pageSrv := &http.Server{Handler: pageHandler(h.pageDir, &pageCfg), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = pageSrv.Serve(pageLn) }()
	t.Cleanup(func() { _ = pageSrv.Close() })
	appOrigin := "http://" + pageLn.Addr().String()

	ourPort := vn.Port()
	ourInside := vn.URL(ourPort)
	publicURL := "http://" + vn.Forward(fmt.Sprintf("%s:%d", vn.Addr(), ourPort))
	authBase := publicURL + "/api/auth"
	pageCfg.Store("discoveryPattern", publicURL+"/api/{{pluginId}}")

	orgPath := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(orgPath, []byte(diffOrgYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	env := m{"signIn": m{"resolvers": []any{m{"resolver": "emailMatchingUserEntityProfileEmail"}}}}
	for k, v := range c.config {
		env[k] = v
	}
	ourCfg := writeYAML(t, dir, "authbackend.yaml", m{
		"app": m{"baseUrl": appOrigin},
		"backend": m{
			"baseUrl":  publicURL,
			"listen":   m{"host": vn.Addr(), "port": ourPort},
			"database": m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}},
			"cors":     m{"origin": appOrigin, "credentials": true, "methods": []string{"GET", "HEAD", "PATCH", "POST", "PUT", "DELETE"}},
		},
		"catalog": m{
			"rules":     []any{m{"allow": []any{"User", "Group", "Location"}}},
			"locations": []any{m{"type": "file", "target": orgPath}},
		},
		"auth": m{
			"environment": "development",
			"session":     m{"secret": "e2e-session-" + randHex(t, 16)},
			"providers":   m{c.provider: m{"development": env}},
		},
	})
	ourProc := startProc(t, logDir, procSpec{
		name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir, netns: vn,
		args: []string{"--config", ourCfg},
	})
	waitHTTP(t, ourProc, ourInside+readyPath, nil, 200, 30*time.Second)

	spki := sha256.Sum256(vn.Leaf().RawSubjectPublicKeyInfo)
	args, _ := json.Marshal(map[string]any{
		"name":          "vendor-" + c.provider,
		"pageUrl":       appOrigin + "/?provider=" + c.provider,
		"provider":      c.provider,
		"screenshotDir": h.artifacts,
		"chromiumArgs":  []string{"--ignore-certificate-errors-spki-list=" + base64.StdEncoding.EncodeToString(spki[:])},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := vn.Command("node", filepath.Join(h.nodeDir, "browser-test.mjs"), string(args))
	cmd.Dir = h.nodeDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			if cmd.Process != nil {
				_ = cmd.Process.Kill()
			}
		case <-done:
		}
	}()
	started := time.Now()
	out, err := cmd.Output()
	close(done)
	if err != nil {
		t.Fatalf("browser-test.mjs in %s: %v\nstdout: %s\nstderr: %s", vn.Name(), err, out, stderr.String())
	}
	var rep vendorBrowserReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("browser-test.mjs output: %v: %s", err, out)
	}
	t.Logf("browser vendor-%s (%s) ran in %s", c.provider, rep.BrowserVersion, time.Since(started).Round(time.Millisecond))
	if !rep.OK {
		t.Fatalf("browser step %q failed: %s\nconsole: %v\npage errors: %v\npopup: %v\nfull report: %s",
			rep.FailedStep, rep.Error, rep.Console, rep.PageErrors, rep.PopupURLs, out)
	}

	if p := rep.Steps.Popup; p.Identity != nil && p.Profile != nil {
		t.Logf("signed in as %s, profile %s / %s, vendor token %.8s..., popup %v", p.Identity.UserEntityRef, p.Profile.Email, p.Profile.DisplayName, p.AccessToken, rep.PopupURLs)
	}
	const alice = "user:default/alice"
	user := c.stub.Options().Users[0]
	st := rep.Steps
	if st.Initial.Status != "signed-out" {
		t.Errorf("fresh profile: status %q (%s), want signed-out", st.Initial.Status, st.Initial.Error)
	}
	if st.Popup.Provider != c.provider {
		t.Errorf("page used client %q, want %q", st.Popup.Provider, c.provider)
	}
	issued := rec.issued()
	for _, s := range []struct {
		name string
		st   vendorBrowserState
	}{{"popup", st.Popup}, {"reload", st.Reload}, {"redirect", st.Redirect}} {
		if s.st.Status != "signed-in" || s.st.Identity == nil || s.st.Identity.UserEntityRef != alice {
			t.Errorf("%s: getBackstageIdentity %+v, want signed in as %s", s.name, s.st, alice)
			continue
		}
		if p := s.st.Profile; p == nil || p.Email != user.Email || p.DisplayName != user.Name || !c.wantPicture(p.Picture) {
			t.Errorf("%s: getProfile %+v, want the vendor's %s / %s", s.name, p, user.Email, user.Name)
		}
		if s.st.AccessToken == "" || len(issued) == 0 || !slices.Contains(issued, s.st.AccessToken) {
			t.Errorf("%s: getAccessToken %q, not one the vendor issued (%d issued)", s.name, s.st.AccessToken, len(issued))
		}
	}
	if st.Popup.AuthBaseURL != authBase {
		t.Errorf("page discovered auth at %q, want %q", st.Popup.AuthBaseURL, authBase)
	}
	if !rep.PopupClosed {
		t.Error("the popup did not close itself")
	}
	wantHops := []string{authBase + "/" + c.provider + "/start?", c.authorizeHop, authBase + "/" + c.provider + "/handler/frame?"}
	checkHops(t, "popup", rep.PopupURLs, wantHops)
	// The redirect flow (enableExperimentalRedirectFlow): the whole page goes through
	// the same hops and comes back to itself, signed in through /refresh.
	if st.RedirectInitial.Status != "signed-out" || st.RedirectInitial.Flow != "redirect" {
		t.Errorf("redirect page before sign-in: %+v", st.RedirectInitial)
	}
	var redirectHops []string
	for _, u := range rep.RedirectURLs {
		if u.Step == "redirect" {
			redirectHops = append(redirectHops, u.URL)
		}
	}
	checkHops(t, "redirect", redirectHops, append(wantHops, appOrigin+"/?provider="+c.provider+"&flow=redirect"))

	var reloadRefresh bool
	for _, r := range rep.RefreshResponses {
		if r.Step == "reload" && r.Status == 200 {
			reloadRefresh = true
			if r.ACAO == nil || *r.ACAO != appOrigin || r.ACAC == nil || *r.ACAC != "true" {
				t.Errorf("cross-origin /refresh answered without CORS for %s: ACAO %v ACAC %v", appOrigin, deref(r.ACAO), deref(r.ACAC))
			}
		}
	}
	if !reloadRefresh {
		t.Errorf("no successful /refresh after reload: %+v", rep.RefreshResponses)
	}
	if st.Signout.Status != "signed-out" {
		t.Errorf("after sign out: %+v", st.Signout)
	}
	if st.RefreshAfterSignout.Status != 401 {
		t.Errorf("refresh after sign out: %d %s, want 401", st.RefreshAfterSignout.Status, st.RefreshAfterSignout.Body)
	}
	if st.ReloadAfterSignout.Status != "signed-out" {
		t.Errorf("reload after sign out: %+v, want signed-out", st.ReloadAfterSignout)
	}
	if len(rep.PageErrors) > 0 {
		t.Errorf("page errors: %v", rep.PageErrors)
	}
}

// TestBrowserSignInGitHub: core-app-api's GithubAuth signs in through us.
func TestBrowserSignInGitHub(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.GitHub, ClientID: "e2e-gh-client", ClientSecret: "e2e-gh-secret"})
	avatar := stub.Options().Users[0].AvatarURL
	runVendorBrowser(t, vendorBrowserCase{
		provider: "github",
		config:   m{"clientId": "e2e-gh-client", "clientSecret": "e2e-gh-secret"},
		stub:     stub, hosts: []string{"github.com", "api.github.com"},
		tokenPath: mockvendor.GitHubTokenPath, authorizeHop: "https://github.com" + mockvendor.GitHubAuthorizePath + "?",
		wantPicture: func(p string) bool { return p == avatar },
	})
}

// TestBrowserSignInMicrosoft: core-app-api's MicrosoftAuth signs in through us.
func TestBrowserSignInMicrosoft(t *testing.T) {
	stub := mockvendor.New(mockvendor.Options{Personality: mockvendor.Microsoft, ClientID: "e2e-ms-client", ClientSecret: "e2e-ms-secret"})
	runVendorBrowser(t, vendorBrowserCase{
		provider: "microsoft",
		config:   m{"clientId": "e2e-ms-client", "clientSecret": "e2e-ms-secret", "tenantId": mockvendor.DefaultEntraTenant},
		stub:     stub, hosts: []string{"login.microsoftonline.com", "graph.microsoft.com"},
		tokenPath:    mockvendor.EntraTokenPath,
		authorizeHop: "https://login.microsoftonline.com/" + mockvendor.DefaultEntraTenant + mockvendor.EntraAuthorizePath + "?",
		// alice has a Graph photo: the module sends it as a data URL.
		wantPicture: func(p string) bool { return strings.HasPrefix(p, "data:image/") },
	})
}
