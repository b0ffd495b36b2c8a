package actions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// fakeAuthn maps tokens to credentials.
type fakeAuthn map[string]tokens.Credentials

func (f fakeAuthn) Authenticate(_ context.Context, token string, _ bool) (tokens.Credentials, error) {
	c, ok := f[token]
	if !ok {
		return tokens.Credentials{}, backstageerr.Authentication(tokens.MsgIllegalToken)
	}
	return c, nil
}

type fakeCatalog map[string]string

func (f fakeCatalog) UserEntity(_ context.Context, ref string) (json.RawMessage, error) {
	if e, ok := f[ref]; ok {
		return json.RawMessage(e), nil
	}
	return nil, nil
}

type fakeInfo map[string]string

func (f fakeInfo) UserInfo(_ context.Context, ref string) (json.RawMessage, error) {
	if e, ok := f[ref]; ok {
		return json.RawMessage(e), nil
	}
	return nil, tokens.ErrNotFound
}

const janeEntity = `{"apiVersion":"backstage.io/v1alpha1","kind":"User","metadata":{"name":"jane","namespace":"default"},"spec":{"memberOf":["team-a"]}}`

// serve mounts the registry on gin the way authbackend does (errors as Backstage's
// error JSON: status by name, {"error":{"name","message"}}).
func serve(t *testing.T, g *Registry) *httptest.Server {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	g.Mount(func(method, path string, _ bool, h func(http.ResponseWriter, *http.Request) error) {
		e.Handle(method, "/api/auth"+path, func(c *gin.Context) {
			for _, p := range c.Params {
				c.Request.SetPathValue(p.Key, p.Value)
			}
			if err := h(c.Writer, c.Request); err != nil {
				c.JSON(backstageerr.Status(backstageerr.NameOf(err)), gin.H{"error": gin.H{"name": backstageerr.NameOf(err), "message": backstageerr.MessageOf(err)}})
			}
		})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func newTestRegistry(t *testing.T) *Registry {
	g, err := New(Options{
		Authenticator: fakeAuthn{
			"full":    {Kind: tokens.KindUser, Subject: "user:default/jane", UserToken: "h." + encodeSeg(`{"sub":"user:default/jane","ent":["user:default/jane","group:default/team-a"]}`) + ".s"},
			"obo":     {Kind: tokens.KindUser, Subject: "user:default/jane", UserToken: "h." + encodeSeg(`{"sub":"user:default/jane"}`) + ".s", Limited: true, Via: "plugin:mcp-actions"},
			"ghost":   {Kind: tokens.KindUser, Subject: "user:default/ghost", UserToken: "h.e30.s"},
			"service": {Kind: tokens.KindService, Subject: "plugin:mcp-actions"},
		},
		Catalog:  fakeCatalog{"user:default/jane": janeEntity},
		UserInfo: fakeInfo{"user:default/jane": `{"claims":{"sub":"user:default/jane","ent":["user:default/jane","group:default/stored"]}}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func do(t *testing.T, method, url, token, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestListActions(t *testing.T) {
	srv := serve(t, newTestRegistry(t))
	for _, tok := range []string{"full", "obo", "service"} {
		status, body := do(t, "GET", srv.URL+"/api/auth/.backstage/actions/v1/actions", tok, "", "")
		if status != 200 || body != string(listBody) {
			t.Fatalf("%s: %d %s", tok, status, body)
		}
	}
	var l struct {
		Actions []struct {
			ID, PluginID string
			Schema       struct{ Input, Output map[string]any }
		}
	}
	if err := json.Unmarshal(listBody, &l); err != nil || len(l.Actions) != 1 || l.Actions[0].ID != WhoAmIID || l.Actions[0].Schema.Output["type"] != "object" {
		t.Fatalf("listing does not parse as the registry's shape: %v %+v", err, l)
	}
	// Node lists to anonymous callers too (the registry is outside the credentials
	// barrier); status and invoke refuse them.
	if status, body := do(t, "GET", srv.URL+"/api/auth/.backstage/actions/v1/actions", "", "", ""); status != 200 || body != string(listBody) {
		t.Fatalf("anonymous: %d %s", status, body)
	}
	if status, body := do(t, "GET", srv.URL+"/api/auth/.backstage/actions/v1/status", "", "", ""); status != 401 || !strings.Contains(body, "Missing credentials") {
		t.Fatalf("anonymous status: %d %s", status, body)
	}
	if status, _ := do(t, "GET", srv.URL+"/api/auth/.backstage/actions/v1/actions", "bogus", "", ""); status != 401 {
		t.Fatalf("bad token: %d", status)
	}
	if status, body := do(t, "GET", srv.URL+"/api/auth/.backstage/actions/v1/status", "service", "", ""); status != 200 || body != `{"hasActions":true}` {
		t.Fatalf("status: %d %s", status, body)
	}
	if status, _ := do(t, "GET", srv.URL+"/api/auth/.backstage/actions/v1/status", "full", "", ""); status != 403 {
		t.Fatalf("status with user credentials: %d", status)
	}
}

func TestInvokeWhoAmI(t *testing.T) {
	srv := serve(t, newTestRegistry(t))
	v1 := srv.URL + "/api/auth/.backstage/actions/v1/actions/auth%3Awho-am-i/invoke"
	v2 := srv.URL + "/api/auth/.backstage/actions/v2/actions/auth%3Awho-am-i/invoke"
	cases := []struct {
		name, url, token, ctype, body string
		status                        int
		want                          string
	}{
		{"full token: ent from the token", v1, "full", "application/json", `{}`, 200,
			`{"output":{"entity":` + janeEntity + `,"userInfo":{"userEntityRef":"user:default/jane","ownershipEntityRefs":["user:default/jane","group:default/team-a"]}}}`},
		{"obo limited token: ent from the stored user info", v1, "obo", "application/json", `{"ignored":1}`, 200,
			`{"output":{"entity":` + janeEntity + `,"userInfo":{"userEntityRef":"user:default/jane","ownershipEntityRefs":["user:default/jane","group:default/stored"]}}}`},
		{"no body", v1, "obo", "", ``, 200, `"group:default/stored"`},
		{"v2 wrapped", v2, "full", "application/json", `{"input":{}}`, 200, `"group:default/team-a"`},
		{"v2 with secrets", v2, "full", "application/json", `{"input":{},"secrets":{"a":"b"}}`, 400, `does not accept secrets`},
		{"v2 without input", v2, "full", "application/json", `{}`, 400, `Invalid input to action \"auth:who-am-i\"; caused by [\n  {\n    \"code\": \"invalid_type\",\n    \"expected\": \"object\",\n    \"received\": \"undefined\",\n    \"path\": [],\n    \"message\": \"Required\"\n  }\n]"`},
		{"array input", v1, "full", "application/json", `[]`, 400, `\"received\": \"array\",\n    \"path\": [],\n    \"message\": \"Expected object, received array\"`},
		{"v2 null input", v2, "full", "application/json", `{"input":null}`, 400, `Expected object, received null`},
		{"v2 array body", v2, "full", "application/json", `[1]`, 400, `\"received\": \"undefined\"`},
		{"malformed JSON", v1, "full", "application/json", `{`, 400, `InputError`},
		{"service credentials", v1, "service", "application/json", `{}`, 403, `This action requires user credentials`},
		{"anonymous", v1, "", "application/json", `{}`, 403, `Actions must be invoked by an authenticated principal, not an anonymous request`},
		{"anonymous, unknown action", srv.URL + "/api/auth/.backstage/actions/v1/actions/x/invoke", "", "application/json", `{}`, 403, `not an anonymous request`},
		{"user not in the catalog", v1, "ghost", "application/json", `{}`, 404, `User entity not found in the catalog for \"user:default/ghost\"`},
		{"unknown action", srv.URL + "/api/auth/.backstage/actions/v1/actions/auth%3Anope/invoke", "full", "application/json", `{}`, 404, `Action \"auth:nope\" not found`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(t, "POST", c.url, c.token, c.ctype, c.body)
			if status != c.status || !strings.Contains(body, c.want) {
				t.Fatalf("%d %s, want %d containing %s", status, body, c.status, c.want)
			}
		})
	}
}

func encodeSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
