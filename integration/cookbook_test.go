package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// cookbook returns the signIn section of the README's cookbook entry name, so the tests
// run exactly what the README tells operators to write.
func cookbook(t *testing.T, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	readme, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(file)), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- cookbook: "+name+" -->\n```yaml\n")
	if !ok {
		t.Fatalf("README has no cookbook entry %q", name)
	}
	block, _, _ := strings.Cut(rest, "```")
	var doc struct {
		SignIn yaml.Node `yaml:"signIn"`
	}
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil || doc.SignIn.Kind == 0 {
		t.Fatalf("cookbook %s: %v\n%s", name, err, block)
	}
	out, err := yaml.Marshal(&doc.SignIn)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// signInResult is one popup sign-in: the identity, or the error the frame posted.
type signInResult struct {
	user      string
	ownership []string
	errName   string
	errMsg    string
}

// popupSignIn arms the mock with query (email=..., groups=...) and signs in.
func popupSignIn(t *testing.T, mock *mockIdP, s *server, query string) signInResult {
	t.Helper()
	if query != "" {
		mock.next(t, query)
	}
	b := newBrowser(t, s.AppURL)
	resp, body := b.get(startURL(s, "&flow=popup"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("popup: %d %s", resp.StatusCode, body)
	}
	msg := popupMessage(t, body)
	if e, ok := msg["error"].(map[string]any); ok {
		assertNoSession(t, b, s, body)
		name, _ := e["name"].(string)
		m, _ := e["message"].(string)
		return signInResult{errName: name, errMsg: m}
	}
	r := signInResult{}
	r.user, _ = dig(msg, "response", "backstageIdentity", "identity", "userEntityRef").(string)
	for _, o := range dig(msg, "response", "backstageIdentity", "identity", "ownershipEntityRefs").([]any) {
		r.ownership = append(r.ownership, o.(string))
	}
	if tok, _ := dig(msg, "response", "backstageIdentity", "token").(string); tok == "" {
		t.Fatalf("identity without a token: %v", msg)
	}
	return r
}

func (r signInResult) is(t *testing.T, user string, ownership ...string) {
	t.Helper()
	if r.errMsg != "" || r.user != user || !slices.Equal(r.ownership, ownership) {
		t.Errorf("signed in as %q owning %v (error %s %q), want %q owning %v", r.user, r.ownership, r.errName, r.errMsg, user, ownership)
	}
}

func (r signInResult) refused(t *testing.T, name, msg string) {
	t.Helper()
	if r.user != "" || r.errName != name || !strings.Contains(r.errMsg, msg) {
		t.Errorf("got %q (error %s %q), want %s containing %q", r.user, r.errName, r.errMsg, name, msg)
	}
}

const (
	alice = "user:default/alice"
	teamA = "group:default/team-a"
)

// orgWithKeycloakIDs is orgYAML with alice annotated with her IdP subject.
var orgWithKeycloakIDs = func() string {
	const at, id = "metadata:\n  name: alice\n", "    keycloak.org/id: u-alice-0001\n"
	if strings.Contains(orgYAML, at+"  annotations:\n") {
		return strings.Replace(orgYAML, at+"  annotations:\n", at+"  annotations:\n"+id, 1)
	}
	return strings.Replace(orgYAML, at, at+"  annotations:\n"+id, 1)
}()

func TestCookbook(t *testing.T) {
	mock := startMock(t)

	t.Run("local-part", func(t *testing.T) {
		s := startServer(t, serverConfig{Mock: mock, SignIn: cookbook(t, "local-part")})
		popupSignIn(t, mock, s, "").is(t, alice, alice, teamA)
		popupSignIn(t, mock, s, "email=Carol@Example.com").is(t, "user:default/carol", "user:default/carol")
		popupSignIn(t, mock, s, "email=alice@evil.test").refused(t, "NotAllowedError", "Sign in with your example.com account")
	})
	t.Run("email-transform", func(t *testing.T) {
		s := startServer(t, serverConfig{Mock: mock, SignIn: cookbook(t, "email-transform")})
		popupSignIn(t, mock, s, "email=alice@corp.example.com").is(t, alice, alice, teamA)
		popupSignIn(t, mock, s, "email=alice@elsewhere.example").refused(t, "Error",
			"Tried: expression with spec.profile.email=alice@elsewhere.example.")
	})
	t.Run("idp-id-annotation", func(t *testing.T) {
		s := startServer(t, serverConfig{Mock: mock, SignIn: cookbook(t, "idp-id-annotation"), Org: orgWithKeycloakIDs})
		popupSignIn(t, mock, s, "").is(t, alice, alice, teamA)
		// alice's email changed at the IdP: her subject still finds her.
		popupSignIn(t, mock, s, "email=alice.smith@example.com&sub=u-alice-0001").is(t, alice, alice, teamA)
		// carol has no annotation: the email resolver after it finds her.
		popupSignIn(t, mock, s, "email=carol@example.com").is(t, "user:default/carol", "user:default/carol")
	})
	t.Run("group-ownership", func(t *testing.T) {
		s := startServer(t, serverConfig{Mock: mock, SignIn: cookbook(t, "group-ownership")})
		popupSignIn(t, mock, s, "email=alice@example.com&groups=team-a,Platform-Eng").is(t, alice, alice, teamA, "group:default/platform-eng")
		popupSignIn(t, mock, s, "email=alice@example.com&groups=").is(t, alice, alice, teamA)
	})
	t.Run("no-catalog-domain", func(t *testing.T) {
		s := startServer(t, serverConfig{Mock: mock, SignIn: cookbook(t, "no-catalog-domain")})
		popupSignIn(t, mock, s, "email=zed@example.com").is(t, "user:default/zed", "user:default/zed")
		popupSignIn(t, mock, s, "").is(t, alice, alice, teamA)
		popupSignIn(t, mock, s, "email=zed@other.test").refused(t, "NotAllowedError", "Login failed, user email domain check failed")
	})
	t.Run("group-gate", func(t *testing.T) {
		s := startServer(t, serverConfig{Mock: mock, SignIn: cookbook(t, "group-gate")})
		popupSignIn(t, mock, s, "email=alice@example.com&groups=").is(t, alice, alice, teamA)
		popupSignIn(t, mock, s, "email=carol@example.com&groups=backstage-users").is(t, "user:default/carol", "user:default/carol")
		popupSignIn(t, mock, s, "email=carol@example.com&groups=other").refused(t, "NotAllowedError", "Ask for the backstage-users group to use Backstage.")
		popupSignIn(t, mock, s, "email=alice@example.com&groups=contractors").refused(t, "NotAllowedError", "Ask for the backstage-users group to use Backstage.")

		// The policy applies again at every refresh.
		mock.next(t, "email=carol@example.com&groups=backstage-users")
		b := newBrowser(t, s.AppURL)
		signInPopup(t, b, s)
		if resp, body := b.get(refreshURL(s), xrw, "XMLHttpRequest"); resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh: %d %s", resp.StatusCode, body)
		}

		carolByIdP := `allow rule matched: auth.providers.spectrocloud.development.signIn.policy.allow[0] (groups claim has "backstage-users")`
		want := []struct{ actor, outcome, reason string }{
			{alice, "allow", "allow rule matched: auth.providers.spectrocloud.development.signIn.policy.allow[1] (ownership has group:default/team-a)"},
			{"user:default/carol", "allow", carolByIdP},
			{"user:default/carol", "deny", "none of the 2 allow rules matched"},
			{alice, "deny", `deny rule matched: auth.providers.spectrocloud.development.signIn.policy.deny[0] (groups claim has "contractors")`},
			{"user:default/carol", "allow", carolByIdP},
			{"user:default/carol", "allow", carolByIdP},
		}
		recs := policyRecords(t, s, len(want))
		if len(recs) != len(want) {
			t.Fatalf("audit records:\n%v", recs)
		}
		for i, w := range want {
			r := recs[i]
			if dig(r, "actor", "actorId") != w.actor || dig(r, "meta", "outcome") != w.outcome || dig(r, "meta", "reason") != w.reason ||
				dig(r, "meta", "provider") != "spectrocloud" || r["eventId"] != "sign-in-policy" || r["isAuditEvent"] != true {
				t.Errorf("record %d = %v, want %+v", i, r, w)
			}
		}
		if rule := dig(recs[2], "meta", "rule"); rule != "auth.providers.spectrocloud.development.signIn.policy" {
			t.Errorf("a refusal by no allow rule names the policy, got %v", rule)
		}
		if out := s.proc.out.String(); strings.Contains(out, "eyJ") {
			t.Errorf("the log holds something token-shaped:\n%s", out)
		}
	})
}

// policyRecords are the server's sign-in policy audit records.
// policyRecords returns the server's sign-in-policy audit records, waiting up to 5s
// for at least n of them: the server's output reaches the test through a pipe, so the
// record of the last answer may arrive a moment after the answer.
func policyRecords(t *testing.T, s *server, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out []map[string]any
		for _, r := range auditRecords(t, s.proc.out.String()) {
			if r["msg"] == "auth.sign-in-policy" {
				out = append(out, r)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An expression that fails at sign-in says which and why, and no token is issued.
func TestExpressionRuntimeErrors(t *testing.T) {
	mock := startMock(t)
	for _, tc := range []struct{ name, resolver, msg string }{
		{"missing claim", `filter: '{"metadata.annotations.example.com/employee-id": claims.employee_id}'`,
			"Sign-in failed: the expression auth.providers.spectrocloud.development.signIn.resolvers[0].filter could not be evaluated: at 1:56: no such key: employee_id"},
		{"wrong type", `entityRef: 'claims.groups'`,
			"signIn.resolvers[0].entityRef could not be evaluated: the expression returned a list, want a string"},
		{"cost limit", `entityRef: 'lists.range(100).map(a, lists.range(100).map(b, a + b)).size() > 0 ? "alice" : ""'`,
			"signIn.resolvers[0].entityRef could not be evaluated: the expression exceeded the cost limit (100000)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, serverConfig{Mock: mock, Resolvers: "- resolver: expression\n              " + tc.resolver})
			popupSignIn(t, mock, s, "").refused(t, "Error", tc.msg)
		})
	}
}

// A compile error stops the server with the resolver, option, position and file.
func TestExpressionCompileErrorAtStartup(t *testing.T) {
	out := runServerExpectingFailure(t, map[string]string{"app-config.yaml": minimalConfig + `auth:
  providers:
    oidc:
      production:
        metadataUrl: http://127.0.0.1:1/realms/x
        clientId: c
        clientSecret: s
        signIn:
          resolvers:
            - resolver: expression
              entityRef: 'claims.preferred_username +'
          policy:
            allow: [{expression: 'readFile("/etc/passwd") != ""'}]
`})
	for _, want := range []string{
		"auth.providers.oidc.production.signIn.resolvers[0].entityRef: Invalid sign-in resolver options, the entityRef expression does not compile: at 1:28: Syntax error",
		"auth.providers.oidc.production.signIn.policy.allow[0].expression: the expression does not compile: at 1:9: undeclared reference to 'readFile'",
		"(app-config.yaml)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
