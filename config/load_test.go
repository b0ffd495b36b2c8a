package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMergeRules(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		path    string
		want    any // nil with present=false means hidden
		present bool
		origin  string
	}{
		{"objects merge deeply, keep lower key", "x:\n  a: 1\n  b: 2\n", "x:\n  b: 3\n", "x.a", 1, true, "a.yaml"},
		{"objects merge deeply, later wins", "x:\n  a: 1\n  b: 2\n", "x:\n  b: 3\n", "x.b", 3, true, "b.yaml"},
		{"arrays replaced whole", "x:\n  l: [1, 2, 3]\n", "x:\n  l: [9]\n", "x.l", []any{9}, true, "b.yaml"},
		{"scalar replaced by object", "x: 1\n", "x:\n  y: 2\n", "x.y", 2, true, "b.yaml"},
		{"object replaced by scalar", "x:\n  y: 2\n", "x: s\n", "x", "s", true, "b.yaml"},
		{"null hides", "x:\n  a: 1\n", "x:\n  a: null\n", "x.a", nil, false, ""},
		{"null hides object", "x:\n  a:\n    b: 1\n", "x:\n  a:\n", "x.a", nil, false, ""},
		{"untouched key keeps its file", "x:\n  a: 1\ny: 2\n", "x:\n  a: 5\n", "y", 2, true, "a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"base.yaml": minimal, "a.yaml": tt.a, "b.yaml": tt.b})
			c := mustLoad(t, dir, env{}, nil, "base.yaml", "a.yaml", "b.yaml")
			got, _ := lookupPath(c, tt.path)
			parent, key := "", tt.path
			if i := strings.LastIndex(tt.path, "."); i >= 0 {
				parent, key = tt.path[:i], tt.path[i+1:]
			}
			r := c.Root
			for _, p := range strings.Split(parent, ".") {
				if p != "" {
					r = r.Sub(p)
				}
			}
			if r.Has(key) != tt.present {
				t.Fatalf("Has(%s) = %v, want %v", tt.path, r.Has(key), tt.present)
			}
			if tt.present && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%s = %#v, want %#v", tt.path, got, tt.want)
			}
			if tt.origin != "" {
				if f := r.FileOf(key); f != tt.origin {
					t.Fatalf("FileOf(%s) = %q, want %q", tt.path, f, tt.origin)
				}
			}
		})
	}
}

func TestArrayReplacementForgetsOldOrigins(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a.yaml": minimal + "x:\n  l:\n    - {a: 1}\n    - {a: 2}\n",
		"b.yaml": "x:\n  l:\n    - {b: 1}\n",
	})
	c := mustLoad(t, dir, env{}, nil, "a.yaml", "b.yaml")
	if _, ok := c.Root.origins["x.l[1].a"]; ok {
		t.Fatalf("stale origin kept for replaced array item: %v", c.Root.origins)
	}
	if got := c.Root.origins["x.l[0].b"]; got != "b.yaml" {
		t.Fatalf("origin x.l[0].b = %q, want b.yaml", got)
	}
}

func TestSubstitution(t *testing.T) {
	e := env{"A": "  alpha ", "B": "beta", "EMPTY": ""}
	tests := []struct {
		value   string
		want    string
		dropped bool
	}{
		{"${A}", "alpha", false},
		{"${ A }", "alpha", false},
		{"pre-${A}-mid-${B}-post", "pre-alpha-mid-beta-post", false},
		{"${MISSING:-fallback}", "fallback", false},
		{"${EMPTY:-fallback}", "fallback", false},
		{"${B:-fallback}", "beta", false},
		{"${MISSING:- spaced fb }", "spaced fb", false},
		{"${EMPTY}", "", false},
		{"$${A}", "${A}", false},
		{"$${MISSING} stays", "${MISSING} stays", false},
		{"$$${A}", "$${A}", false},
		{"cost: $5 {x}", "cost: $5 {x}", false},
		{"${MISSING}", "", true},
		{"${A}${MISSING}", "", true},
		{"${EMPTY:-}", "", true},
		{"${MISSING:-}", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"app-config.yaml": minimal + "x:\n  v: '" + tt.value + "'\n  list: ['" + tt.value + "', keep]\n"})
			c := mustLoad(t, dir, e, nil)
			x := c.Root.Sub("x").Reader()
			if x.Has("v") == tt.dropped {
				t.Fatalf("Has(x.v) = %v, want %v", x.Has("v"), !tt.dropped)
			}
			if !tt.dropped && x.String("v") != tt.want {
				t.Fatalf("x.v = %q, want %q", x.String("v"), tt.want)
			}
			wantList := []string{tt.want, "keep"}
			if tt.dropped {
				wantList = []string{"keep"}
			}
			if got := x.StringList("list"); !reflect.DeepEqual(got, wantList) {
				t.Fatalf("x.list = %q, want %q", got, wantList)
			}
		})
	}
}

func TestUnsetVariableGivesMissingRequired(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": "app:\n  baseUrl: ${APP_URL}\nbackend:\n  baseUrl: http://b.test\n"})
	_, err := loadDir(dir, env{}, nil)
	if !hasProblem(err, "app.baseUrl: missing required config value (app-config.yaml)") {
		t.Fatalf("want missing app.baseUrl, got %v", err)
	}
}

func TestIncludeDirectives(t *testing.T) {
	files := map[string]string{
		"conf/app-config.yaml": minimal + `
x:
  file: {$file: secrets/token.txt}
  env: {$env: TOKEN}
  envUnset: {$env: NOPE}
  fileFromVar: {$file: "${SECRET_DIR}/token.txt"}
  inc: {$include: inc/other.yaml}
  incPath: {$include: "inc/other.yaml#nested.deep"}
  incJSON: {$include: "data.json#obj"}
  incString: {$include: "inc/other.yaml#greeting"}
`,
		"conf/secrets/token.txt": "s3cret\n\n  \t\n",
		"conf/data.json":         `{"obj": {"n": 42, "f": 1.5, "s": "x"}}`,
		"conf/inc/other.yaml": `
nested:
  deep:
    v: 1
    sibling: {$file: ../secrets/token.txt}
    again: {$include: more/leaf.yaml}
greeting: hello ${NAME}
`,
		"conf/inc/more/leaf.yaml": "leafFile: {$file: leaf.txt}\n",
		"conf/inc/more/leaf.txt":  "leaf",
	}
	dir := writeTree(t, files)
	e := env{"TOKEN": " tok \n", "SECRET_DIR": "secrets", "NAME": "world"}
	c := mustLoad(t, dir, e, nil, "conf/app-config.yaml")
	x := c.Root.Sub("x").Reader()
	checks := []struct{ path, want string }{
		{"file", "s3cret"},
		{"env", "tok"},
		{"fileFromVar", "s3cret"},
		{"incString", "hello world"},
	}
	for _, ch := range checks {
		if got := x.String(ch.path); got != ch.want {
			t.Errorf("x.%s = %q, want %q", ch.path, got, ch.want)
		}
	}
	if x.Has("envUnset") {
		t.Errorf("x.envUnset should be dropped")
	}
	deep := x.Sub("inc").Sub("nested").Sub("deep")
	if deep.Int("v", 0) != 1 || deep.String("sibling") != "s3cret" || deep.Sub("again").String("leafFile") != "leaf" {
		t.Errorf("nested include resolved wrongly: %#v", x.Raw("inc"))
	}
	if x.Sub("incPath").Int("v", 0) != 1 {
		t.Errorf("x.incPath = %#v", x.Raw("incPath"))
	}
	j := x.Sub("incJSON")
	if j.Int("n", 0) != 42 || j.String("s") != "x" {
		t.Errorf("x.incJSON = %#v", x.Raw("incJSON"))
	}
	if f := x.FileOf("inc"); f != filepath.FromSlash("conf/inc/other.yaml") {
		t.Errorf("FileOf(x.inc) = %q", f)
	}
	if f := x.Sub("inc").Sub("nested").Sub("deep").Sub("again").FileOf("leafFile"); f != filepath.FromSlash("conf/inc/more/leaf.yaml") {
		t.Errorf("FileOf(leafFile) = %q", f)
	}
	if f := x.FileOf("file"); f != filepath.FromSlash("conf/app-config.yaml") {
		t.Errorf("FileOf(x.file) = %q", f)
	}
}

func TestIncludeProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"missing include names file, path and key", "x:\n  secret: {$include: missing/secrets.yaml}\n",
			`x.secret: $include: cannot read "missing/secrets.yaml": file does not exist (app-config.yaml)`},
		{"missing $file", "x:\n  secret: {$file: nope.txt}\n", `x.secret: $file: cannot read "nope.txt": file does not exist (app-config.yaml)`},
		{"adjacent keys", "x:\n  y: {$file: a.txt, other: 1}\n", "x.y: include key $file must be the only key in its object (also found other) (app-config.yaml)"},
		{"unknown directive", "x:\n  y: {$secret: a}\n", "x.y: unknown include directive $secret"},
		{"non-string directive", "x:\n  y: {$file: [a]}\n", "x.y: $file value must be a string, got a list"},
		{"unset var in directive", "x:\n  y: {$file: '${NOPE}/a.txt'}\n", "references an unset environment variable"},
		{"bad extension", "x:\n  y: {$include: a.txt}\n", `no configuration parser for "a.txt"`},
		{"include cycle", "x:\n  y: {$include: app-config.yaml}\n", "includes itself"},
		{"missing sub-path", "x:\n  y: {$include: 'inc.yaml#a.nope'}\n", `"inc.yaml" has no value at "a.nope"`},
		{"sub-path through a scalar", "x:\n  y: {$include: 'inc.yaml#a.b.c'}\n", `value at "a.b" in "inc.yaml" is not an object`},
		{"bad included yaml", "x:\n  y: {$include: bad.yaml}\n", `$include: cannot parse "bad.yaml": line 2`},
		{"invalid key in read section", "auth:\n  Bad Key: 1\n", `auth.Bad Key: invalid config key "Bad Key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{
				"app-config.yaml": minimal + tt.yaml,
				"inc.yaml":        "a:\n  b: scalar\n",
				"bad.yaml":        "a: 1\n b: [\n",
			})
			_, err := loadDir(dir, env{}, nil)
			if !hasProblem(err, tt.want) {
				t.Fatalf("want a problem containing %q, got:\n%v", tt.want, err)
			}
		})
	}
}

func TestForeignSectionsKeepOddKeys(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal + "proxy:\n  endpoints:\n    '/pagerduty': {target: http://x}\napp2:\n  routes:\n    bindings:\n      catalog.createComponent: scaffolder.root\n"})
	c := mustLoad(t, dir, env{}, nil)
	if c.Root.Sub("proxy").Sub("endpoints").Reader().Sub("/pagerduty").String("target") != "http://x" {
		t.Fatalf("proxy key lost: %#v", c.Root.Raw("proxy"))
	}
}

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		path    string
		want    any
		problem string
	}{
		{"raw string", []string{"APP_CONFIG_backend_baseUrl=http://env.test"}, "backend.baseUrl", "http://env.test", ""},
		{"json number", []string{"APP_CONFIG_x_n=42"}, "x.n", 42, ""},
		{"json bool", []string{"APP_CONFIG_x_b=true"}, "x.b", true, ""},
		{"json object merges", []string{`APP_CONFIG_backend={"listen":{"port":1234}}`}, "backend.listen.port", 1234, ""},
		{"json list", []string{`APP_CONFIG_x_l=["a","b"]`}, "x.l", []any{"a", "b"}, ""},
		{"invalid json is a string", []string{"APP_CONFIG_x_s={not json"}, "x.s", "{not json", ""},
		{"empty ignored", []string{"APP_CONFIG_app_baseUrl="}, "app.baseUrl", "http://app.test", ""},
		{"null rejected", []string{"APP_CONFIG_x_n=null"}, "", nil, "x.n: value may not be null (env APP_CONFIG_x_n)"},
		{"nest under leaf", []string{"APP_CONFIG_x=1", "APP_CONFIG_x_y=2"}, "", nil, `could not nest config for key "x_y" under existing value "x"`},
		{"duplicate", []string{"APP_CONFIG_x=1", "APP_CONFIG_x=2"}, "", nil, `refusing to override existing config at key "x"`},
		{"invalid key", []string{"APP_CONFIG_x__y=1"}, "", nil, `invalid env config key "x__y" (env APP_CONFIG_x__y)`},
		{"other vars ignored", []string{"HOME=/root", "APP_CONFIGX=1"}, "app.baseUrl", "http://app.test", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"app-config.yaml": minimal + "x:\n  n: 1\n"})
			c, err := loadDir(dir, env{}, tt.environ)
			if tt.problem != "" {
				if !hasProblem(err, tt.problem) {
					t.Fatalf("want problem %q, got %v", tt.problem, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := lookupPath(c, tt.path)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%s = %#v, want %#v", tt.path, got, tt.want)
			}
		})
	}
}

func TestEnvOverrideOrigin(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal})
	_, err := loadDir(dir, env{}, []string{"APP_CONFIG_auth_backstageTokenExpiration=soon"})
	want := `auth.backstageTokenExpiration: invalid duration "soon" (env APP_CONFIG_auth_backstageTokenExpiration)`
	if !hasProblem(err, want) {
		t.Fatalf("want %q, got %v", want, err)
	}
}

func TestMalformedYAML(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"app-config.yaml":       minimal,
		"app-config.local.yaml": "a: 1\nb:\n  c: [1, 2\nd: 3\n",
	})
	_, err := loadDir(dir, env{}, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "(app-config.local.yaml)") || !strings.Contains(msg, "line ") {
		t.Fatalf("error should name the file and line: %v", msg)
	}
}

func TestNonObjectRoot(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": "- a\n- b\n"})
	_, err := loadDir(dir, env{}, nil)
	if !hasProblem(err, "invalid YAML: line 1: cannot unmarshal") {
		t.Fatalf("got %v", err)
	}
}

func TestMissingFiles(t *testing.T) {
	dir := writeTree(t, map[string]string{"other.yaml": minimal})
	if _, err := loadDir(dir, env{}, nil); !hasProblem(err, "cannot read config file: file does not exist (app-config.yaml)") {
		t.Fatalf("missing base file: %v", err)
	}
	if _, err := loadDir(dir, env{}, nil, "other.yaml", "nope.yaml"); !hasProblem(err, "(nope.yaml)") {
		t.Fatalf("missing --config file: %v", err)
	}
	if _, err := loadDir(dir, env{}, nil, "https://example.com/app-config.yaml"); !hasProblem(err, "remote config URLs are not supported") {
		t.Fatalf("remote config: %v", err)
	}
}

func TestMultipleProblemsAtOnce(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"app-config.yaml": `
backend:
  baseUrl: not-a-url
  listen: {port: 99999}
auth:
  backstageTokenExpiration: banana
  keyStore:
    provider: vault
  identityTokenAlgorithm: RS256
`,
		"app-config.local.yaml": "auth:\n  keyStore:\n    provider: firestore\n",
	})
	_, err := loadDir(dir, env{}, nil)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{
		`auth.backstageTokenExpiration: invalid duration "banana" (app-config.yaml)`,
		`app.baseUrl: missing required config value`,
		`backend.baseUrl: must be an absolute http(s) URL, got "not-a-url" (app-config.yaml)`,
		`backend.listen.port: must be between 0 and 65535, got 99999 (app-config.yaml)`,
		`auth.keyStore.provider: firestore is not supported by this server; use database, memory or static (app-config.local.yaml)`,
		`auth.identityTokenAlgorithm: unsupported algorithm "RS256"; this server supports only ES256 (app-config.yaml)`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

func TestDefaultFilesAndBackstageEnv(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"app-config.yaml":                  minimal + "x:\n  a: base\n  b: base\n  c: base\n  d: base\n  e: base\n",
		"app-config.production.yaml":       "x:\n  a: production\n  b: production\n  c: production\n",
		"app-config.staging.yaml":          "x:\n  b: staging\n",
		"app-config.local.yaml":            "x:\n  c: local\n  d: local\n",
		"app-config.production.local.yaml": "x:\n  d: production-local\n",
		"app-config.other.yaml":            "x:\n  e: other\n",
	})
	c := mustLoad(t, dir, env{"BACKSTAGE_ENV": "production, staging"}, nil)
	x := c.Root.Sub("x").Reader()
	want := map[string]string{"a": "production", "b": "staging", "c": "local", "d": "production-local", "e": "base"}
	for k, v := range want {
		if got := x.String(k); got != v {
			t.Errorf("x.%s = %q, want %q", k, got, v)
		}
	}
	var names []string
	for _, f := range c.Files {
		names = append(names, filepath.Base(f))
	}
	wantFiles := []string{"app-config.yaml", "app-config.production.yaml", "app-config.staging.yaml", "app-config.local.yaml", "app-config.production.local.yaml"}
	if !reflect.DeepEqual(names, wantFiles) {
		t.Errorf("Files = %v, want %v", names, wantFiles)
	}

	c = mustLoad(t, dir, env{}, nil)
	if got := c.Root.Sub("x").Reader().String("a"); got != "base" {
		t.Errorf("without BACKSTAGE_ENV x.a = %q, want base", got)
	}
}

func TestKeyChecksOnlyWhereRead(t *testing.T) {
	tests := []struct {
		yaml    string
		problem string
	}{
		{"catalog:\n  processors:\n    ldapOrg:\n      set: {metadata.annotations.x: y}\n", ""},
		{"catalog:\n  locations:\n    - {type: url, target: http://x, Bad.Key: 1}\n", `catalog.locations[0].Bad.Key: invalid config key "Bad.Key"`},
		{"Bad!: 1\n", `Bad!: invalid config key "Bad!"`},
		{"  csp:\n    _x: []\n", `backend.csp._x: invalid config key "_x"`},
		{"authbackend:\n  demoPage:\n    en--abled: true\n", `invalid config key "en--abled"`},
		{"auth:\n  providers:\n    my-oidc_2:\n      ns:dev: {}\n", ""},
	}
	for _, tt := range tests {
		dir := writeTree(t, map[string]string{"app-config.yaml": minimal + tt.yaml})
		_, err := loadDir(dir, env{}, nil)
		if tt.problem == "" && err != nil {
			t.Errorf("%q: unexpected %v", tt.yaml, err)
		}
		if tt.problem != "" && !hasProblem(err, tt.problem) {
			t.Errorf("%q: want %q, got %v", tt.yaml, tt.problem, err)
		}
	}
}
