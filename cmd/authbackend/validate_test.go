package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, yaml string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "org.yaml"), []byte("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: a}\nspec: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func runValidate(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errOut bytes.Buffer
	code := validate(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Nothing is contacted: the database and the IdP below do not exist.
const validYAML = `app: {baseUrl: 'http://127.0.0.1:3000'}
backend:
  baseUrl: http://127.0.0.1:7007
  database: {client: pg, connection: 'postgres://nobody@127.0.0.1:1/none'}
auth:
  session: {secret: validate-secret-validate-secret-0123}
  providers:
    guest: {}
    oidc:
      development: {metadataUrl: 'http://127.0.0.1:1/realms/x', clientId: c, clientSecret: s,
        signIn: {resolvers: [{resolver: emailLocalPartMatchingUserEntityName}]}}
      production: {metadataUrl: 'http://127.0.0.1:1/realms/y', clientId: c, clientSecret: s}
    spectrocloud:
      development:
        clientId: c
        clientSecret: s
        authorizationUrl: http://127.0.0.1:1/v1/oidc/tenant/t/auth
        signIn: {resolvers: [{resolver: emailMatchingUserEntityProfileEmail, allowedDomains: [example.com]}]}
    vmwareCloudServices:
      development: {clientId: x}
catalog:
  rules: [{allow: [User]}]
  locations: [{type: file, target: ./org.yaml}]
`

func TestValidateValid(t *testing.T) {
	dir, path := writeConfig(t, validYAML)
	code, out, errOut := runValidate(t, dir, "--config", path)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	want := "configuration is valid: providers: guest, oidc (development, production), spectrocloud (development); " +
		"resolvers: emailLocalPartMatchingUserEntityName, emailMatchingUserEntityProfileEmail; key store: database (pg); catalog: local\n"
	if out != want {
		t.Errorf("stdout\n got %q\nwant %q", out, want)
	}
	if !strings.Contains(errOut, `warning: auth.providers.vmwareCloudServices: no provider module for "vmwareCloudServices"`) {
		t.Errorf("stderr lacks the unknown-provider warning: %s", errOut)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	yaml := strings.NewReplacer(
		"baseUrl: http://127.0.0.1:7007", "baseUrl: not-a-url",
		"clientId: c, clientSecret: s,\n", "clientSecret: s,\n",
		"allowedDomains: [example.com]", "allowedDomain: [example.com]",
	).Replace(validYAML)
	dir, path := writeConfig(t, yaml)
	code, out, errOut := runValidate(t, dir, "--config", path)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{
		"backend.baseUrl: must be an absolute http(s) URL",
		"auth.providers.oidc.development.clientId: missing required config value (app-config.yaml)",
		"auth.providers.spectrocloud.development.signIn.resolvers[0].allowedDomain: unknown key (app-config.yaml)",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// A catalog file that is missing is skipped with a warning, as at start-up.
	dir, path = writeConfig(t, strings.Replace(validYAML, "target: ./org.yaml", "target: ./missing.yaml", 1))
	if code, _, errOut := runValidate(t, dir, "--config", path); code != 0 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing catalog file: exit %d, %s", code, errOut)
	}
}

func TestValidateUsage(t *testing.T) {
	if code, _, _ := runValidate(t, t.TempDir(), "extra"); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
	if code, _, errOut := runValidate(t, t.TempDir(), "--config", "/nonexistent/app-config.yaml"); code != 1 || errOut == "" {
		t.Errorf("missing file: exit %d, %s", code, errOut)
	}
}

// Sign-in expressions and policies are compiled by validate: an error names the
// resolver entry, the option, the position in the expression and the file.
func TestValidateExpressions(t *testing.T) {
	yaml := strings.Replace(validYAML, "signIn: {resolvers: [{resolver: emailLocalPartMatchingUserEntityName}]}}",
		`signIn: {resolvers: [{resolver: expression, filter: '{"metadata.annotations.example.com/id": claims.sub}', ownership: 'claims.groups.map(g, "group:default/" + g'}],
          policy: {allow: [{expression: 'identity.userEntityRef'}]}}}`, 1)
	dir, path := writeConfig(t, yaml)
	code, out, errOut := runValidate(t, dir, "--config", path)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	for _, want := range []string{
		"auth.providers.oidc.development.signIn.resolvers[0].ownership: Invalid sign-in resolver options, the ownership expression does not compile: at 1:42: Syntax error: missing ')' at '<EOF>' (app-config.yaml)",
		"auth.providers.oidc.development.signIn.policy.allow[0].expression: the expression does not compile: at 1:1: the expression returns string, want a bool (app-config.yaml)",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Fixed, the same config is valid and the summary names the resolver.
	yaml = strings.NewReplacer(`"group:default/" + g'`, `"group:default/" + g)'`, `expression: 'identity.userEntityRef'`, `expression: 'identity.userEntityRef != ""'`).Replace(yaml)
	dir, path = writeConfig(t, yaml)
	code, out, errOut = runValidate(t, dir, "--config", path)
	if code != 0 || !strings.Contains(out, "resolvers: emailMatchingUserEntityProfileEmail, expression;") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}
