package e2e_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// browserState is window.__e2e of the page, as browser-test.mjs reports it.
type browserState struct {
	Status   string `json:"status"`
	Flow     string `json:"flow"`
	Error    string `json:"error"`
	Token    string `json:"token"`
	Identity *struct {
		Type                string   `json:"type"`
		UserEntityRef       string   `json:"userEntityRef"`
		OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
	} `json:"identity"`
	AuthBaseURL string   `json:"authBaseUrl"`
	Log         []string `json:"log"`
}

type fetchResult struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

type browserReport struct {
	OK             bool   `json:"ok"`
	FailedStep     string `json:"failedStep"`
	Error          string `json:"error"`
	BrowserVersion string `json:"browserVersion"`
	Steps          struct {
		Initial             browserState `json:"initial"`
		Popup               browserState `json:"popup"`
		Catalog             *fetchResult `json:"catalog"`
		Reload              browserState `json:"reload"`
		Signout             browserState `json:"signout"`
		RefreshAfterSignout fetchResult  `json:"refreshAfterSignout"`
		ReloadAfterSignout  browserState `json:"reloadAfterSignout"`
		RedirectInitial     browserState `json:"redirectInitial"`
		Redirect            browserState `json:"redirect"`
	} `json:"steps"`
	RefreshResponses []struct {
		Step   string  `json:"step"`
		Status int     `json:"status"`
		URL    string  `json:"url"`
		ACAO   *string `json:"acao"`
		ACAC   *string `json:"acac"`
	} `json:"refreshResponses"`
	PopupURLs    []string `json:"popupUrls"`
	RedirectURLs []struct {
		Step string `json:"step"`
		URL  string `json:"url"`
	} `json:"redirectUrls"`
	PopupClosed bool     `json:"popupClosed"`
	Console     []string `json:"console"`
	PageErrors  []string `json:"pageErrors"`
	Screenshots []string `json:"screenshots"`
}

// runBrowser runs integration/node/browser-test.mjs against the stack's page.
func runBrowser(t *testing.T, s *stack, name string) browserReport {
	t.Helper()
	args, _ := json.Marshal(map[string]any{
		"name":              name,
		"pageUrl":           s.appOrigin + "/",
		"screenshotDir":     s.h.artifacts,
		"sameOriginCatalog": s.nginxProc != nil,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(s.h.nodeDir, "browser-test.mjs"), string(args))
	cmd.Dir = s.h.nodeDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	started := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser-test.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var rep browserReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("browser-test.mjs output: %v: %s", err, out)
	}
	t.Logf("browser %s (%s) ran in %s; screenshots: %s", name, rep.BrowserVersion, time.Since(started).Round(time.Millisecond), strings.Join(rep.Screenshots, ", "))
	if !rep.OK {
		t.Fatalf("browser step %q failed: %s\npage log: %v\nconsole: %v\npage errors: %v\npopup: %v\nfull report: %s",
			rep.FailedStep, rep.Error, lastState(rep).Log, rep.Console, rep.PageErrors, rep.PopupURLs, out)
	}
	return rep
}

func lastState(r browserReport) browserState {
	for _, s := range []browserState{r.Steps.Redirect, r.Steps.RedirectInitial, r.Steps.ReloadAfterSignout, r.Steps.Signout, r.Steps.Reload, r.Steps.Popup, r.Steps.Initial} {
		if s.Status != "" {
			return s
		}
	}
	return browserState{}
}

// checkBrowserReport asserts the sign-in story the page went through.
func checkBrowserReport(t *testing.T, s *stack, rep browserReport) {
	t.Helper()
	const alice = "user:default/alice"
	st := rep.Steps
	if st.Initial.Status != "signed-out" {
		t.Errorf("fresh profile: status %q (%s), want signed-out", st.Initial.Status, st.Initial.Error)
	}
	if st.Popup.Status != "signed-in" || st.Popup.Identity == nil || st.Popup.Identity.UserEntityRef != alice {
		t.Errorf("after the popup: %+v, want signed in as %s", st.Popup, alice)
	}
	if st.Popup.AuthBaseURL != s.authBase() {
		t.Errorf("page discovered auth at %q, want %q", st.Popup.AuthBaseURL, s.authBase())
	}
	if !rep.PopupClosed {
		t.Error("the popup did not close itself")
	}
	// The popup went /start (ours) -> mock Palette authorize -> our handler/frame.
	wantHops := []string{s.authBase() + "/spectrocloud/start?", s.mockURL + "/v1/oidc/tenant/" + mockTenant + "/auth?", s.authBase() + "/spectrocloud/handler/frame?"}
	checkHops(t, "popup", rep.PopupURLs, wantHops)

	if st.Reload.Status != "signed-in" || st.Reload.Identity == nil || st.Reload.Identity.UserEntityRef != alice {
		t.Errorf("after reload: %+v, want the session kept through /refresh", st.Reload)
	}
	var reloadRefresh bool
	for _, r := range rep.RefreshResponses {
		if r.Step == "reload" && r.Status == 200 {
			reloadRefresh = true
			if s.nginxProc == nil && (r.ACAO == nil || *r.ACAO != s.appOrigin || r.ACAC == nil || *r.ACAC != "true") {
				t.Errorf("cross-origin /refresh answered without CORS for %s: ACAO %v ACAC %v", s.appOrigin, deref(r.ACAO), deref(r.ACAC))
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

	if st.RedirectInitial.Status != "signed-out" || st.RedirectInitial.Flow != "redirect" {
		t.Errorf("redirect page before sign-in: %+v", st.RedirectInitial)
	}
	if st.Redirect.Status != "signed-in" || st.Redirect.Identity == nil || st.Redirect.Identity.UserEntityRef != alice {
		t.Errorf("redirect flow: %+v, want signed in as %s", st.Redirect, alice)
	}
	var redirectHops []string
	for _, u := range rep.RedirectURLs {
		if u.Step == "redirect" {
			redirectHops = append(redirectHops, u.URL)
		}
	}
	checkHops(t, "redirect", redirectHops, append(wantHops, s.appOrigin+"/?flow=redirect"))
	if len(rep.PageErrors) > 0 {
		t.Errorf("page errors: %v", rep.PageErrors)
	}
}

// checkHops checks that the navigations include want, in order, as prefixes.
func checkHops(t *testing.T, what string, got, want []string) {
	t.Helper()
	i := 0
	for _, u := range got {
		if i < len(want) && strings.HasPrefix(u, want[i]) {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("%s navigations %v do not go through %v (matched %d)", what, got, want, i)
	}
}

func deref(p *string) string {
	if p == nil {
		return "<absent>"
	}
	return *p
}

// TestBrowserSignInCrossOrigin is issue 4 item 3: the real core-app-api sign-in in
// headless Chromium, page and auth backend on different origins (CORS with credentials).
func TestBrowserSignInCrossOrigin(t *testing.T) {
	h := requireE2E(t)
	s := startStack(t, h, stackOptions{})
	rep := runBrowser(t, s, "cross-origin")
	checkBrowserReport(t, s, rep)
}

// TestBrowserSignInThroughNginx is issue 4 item 4: the same browser run through the
// examples/nginx route, with app, backend and auth on one origin.
func TestBrowserSignInThroughNginx(t *testing.T) {
	h := requireE2E(t)
	s := startStack(t, h, stackOptions{proxy: true})
	rep := runBrowser(t, s, "nginx")
	checkBrowserReport(t, s, rep)
	if c := rep.Steps.Catalog; c == nil || c.Status != 200 {
		t.Errorf("same-origin catalog call through nginx with the browser's token: %+v, want 200", c)
	}
	// Requests for /api/auth reached our server through nginx, the rest the Node backend.
	if !strings.Contains(s.nginxProc.log()+readFile(t, filepath.Join(s.logDir, "nginx-access.log")), "/api/auth/spectrocloud/handler/frame") {
		t.Error("nginx access log has no handler/frame request")
	}
}
