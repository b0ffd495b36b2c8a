package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/spectrocloud-labs/backstage-auth-go/"

type pkg struct {
	ImportPath string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps", module+"...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
	return pkgs
}

// within reports whether path is the package rel or below it.
func within(path, rel string) bool {
	full := module + rel
	return path == full || strings.HasPrefix(path, full+"/")
}

// rules: packages matching `from` must not depend (even transitively) on any package
// under the listed prefixes.
var rules = []struct {
	from   string
	except []string
	forbid []string
	why    string
}{
	{from: "config", forbid: []string{""}, why: "config is a leaf"},
	{from: "audit", forbid: []string{""}, why: "audit is a leaf every component may call"},
	{from: "metrics", forbid: []string{""}, why: "metrics knows no component; cmd (through observe) hands it labels"},
	{from: "tracing", forbid: []string{""}, why: "tracing knows no component; observe wraps them"},
	{from: "sessions", forbid: []string{""}, why: "sessions defines its store; authdb implements it and cmd wires both"},
	{from: "providers", forbid: []string{"jwks", "signingkeys", "tokens", "authdb", "resolvers/localcatalog", "resolvers/remotecatalog", "authbackend", "cmd"},
		why: "providers know nothing of tokens, keys, storage or the catalog"},
	{from: "resolvers", except: []string{"resolvers/localcatalog", "resolvers/remotecatalog"}, forbid: []string{"providers", "jwks", "signingkeys", "tokens", "authdb", "authbackend", "cmd"},
		why: "resolvers turn a verified sign-in into an identity; they do not issue tokens"},
	{from: "authserver", forbid: []string{"providers", "resolvers", "authdb", "authbackend", "cmd"},
		why: "the authorization server sees storage through authserver/store and is mounted by the router, not the reverse"},
	{from: "authbackend", forbid: []string{"providers/", "resolvers/localcatalog", "resolvers/remotecatalog", "authdb", "authserver", "cmd"},
		why: "the router knows no concrete provider, catalog or database"},
	{from: "internal", except: []string{"internal/archtest"}, forbid: []string{"providers", "resolvers", "authbackend", "jwks", "signingkeys", "tokens", "authdb", "config", "cmd"},
		why: "internal packages are shared leaves"},
}

func TestDependenciesPointOneWay(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, r := range rules {
			if !within(p.ImportPath, r.from) {
				continue
			}
			skip := false
			for _, e := range r.except {
				skip = skip || within(p.ImportPath, e)
			}
			if skip {
				continue
			}
			for _, d := range p.Deps {
				if !strings.HasPrefix(d, module) {
					continue
				}
				for _, f := range r.forbid {
					if forbidden(d, f) {
						t.Errorf("%s depends on %s: %s", strings.TrimPrefix(p.ImportPath, module), strings.TrimPrefix(d, module), r.why)
					}
				}
			}
		}
	}
}

// forbidden reports whether dep matches the rule prefix f: "" is any package of the
// module, "x/" any package below x (not x itself), "x" x or below it.
func forbidden(dep, f string) bool {
	switch {
	case f == "":
		return true
	case strings.HasSuffix(f, "/"):
		return strings.HasPrefix(dep, module+f)
	default:
		return within(dep, f)
	}
}

func TestForbidden(t *testing.T) {
	for _, tc := range []struct {
		dep, f string
		want   bool
	}{
		{module + "providers", "providers/", false},
		{module + "providers/oidc", "providers/", true},
		{module + "providers/oidc", "providers", true},
		{module + "providersx", "providers", false},
		{module + "internal/jsrules", "", true},
	} {
		if got := forbidden(tc.dep, tc.f); got != tc.want {
			t.Errorf("forbidden(%s, %q) = %v", tc.dep, tc.f, got)
		}
	}
}
