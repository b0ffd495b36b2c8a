package celexpr

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/cel-go/common/types"
)

var testIn = Input{
	Provider: "oidc",
	Profile:  Profile{Email: "alice@example.com", DisplayName: "Alice"},
	Claims: map[string]any{
		"sub": "u-1", "groups": []any{"dev", "ops"}, "employee_id": float64(12345),
		"ratio": 0.5, "nested": map[string]any{"a": []any{true}},
	},
}

func compile(t *testing.T, env *Env, src string, want Want) *Program {
	t.Helper()
	p, err := env.Compile(src, want, DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return p
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want Want
		msg  string
	}{
		{"profile.emial", WantString, "at 1:8: undefined field 'emial'"},
		{"claimz.x", WantString, "at 1:1: undeclared reference to 'claimz'"},
		{"1 +", WantBool, "at 1:4: Syntax error"},
		{"profile.email", WantBool, "at 1:1: the expression returns string, want a bool"},
		{"[1, 2]", WantStringMap, "returns list(int), want a map of strings"},
		{"{1: 'a'}", WantStringMap, "returns map(int, string), want a map of strings"},
		{"claims.?sub", WantString, "(end an optional chain with .orValue(...))"},
		{"  ", WantString, "the expression is empty"},
		{"identity.userEntityRef == ''", WantBool, "undeclared reference to 'identity'"},
		{"'x' +\n  profile.nope", WantString, "at 2:10: undefined field 'nope'"},
		{strings.Repeat("a", MaxExpressionLength+1), WantString, "size exceeds limit"},
	} {
		_, err := SignIn().Compile(tc.src, tc.want, DefaultLimits)
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%.40q: %v, want %q", tc.src, err, tc.msg)
		}
	}
	// identity exists in the policy environment only.
	compile(t, Policy(), "'group:default/ops' in identity.ownershipEntityRefs", WantBool)
}

// No function an expression can call reads a file, the environment, the clock or the
// network, or starts anything: the list is pinned, so a new library or cel-go upgrade
// that adds functions fails here until someone has looked at them.
func TestNoIOFunctions(t *testing.T) {
	want := strings.Fields(`!_ -_ @in @not_strictly_false @sortByAssociatedKeys _!=_ _%_ _&&_ _*_ _+_ _-_ _/_
		_<=_ _<_ _==_ _>=_ _>_ _?._ _?_:_ _[?_] _[_] __not_strictly_false__ _in_ _||_ bool bytes charAt contains
		distinct double duration dyn endsWith first flatten format getDate getDayOfMonth getDayOfWeek getDayOfYear
		getFullYear getHours getMilliseconds getMinutes getMonth getSeconds hasValue in indexOf int join last
		lastIndexOf lists.range lowerAscii matches optional.none optional.of optional.ofNonZeroValue optional.unwrap
		or orValue replace reverse sets.contains sets.equivalent sets.intersects size slice sort split startsWith
		string strings.quote substring timestamp trim type uint unwrapOpt upperAscii value`)
	for _, env := range []*Env{SignIn(), Policy()} {
		if got := env.FunctionNames(); !slices.Equal(got, want) {
			t.Errorf("functions changed:\n got %v\nwant %v", got, want)
		}
	}
	// What an expression would need to reach outside does not exist.
	for _, src := range []string{
		`readFile("/etc/passwd")`, `file("/etc/passwd")`, `os.readFile("/etc/passwd")`, `env("HOME")`,
		`os.getenv("HOME")`, `http.get("http://127.0.0.1:1/")`, `net.dial("tcp", "127.0.0.1:1")`,
		`url("http://127.0.0.1:1/").fetch()`, `exec("id")`, `now()`, `io.read("/dev/zero")`,
	} {
		_, err := SignIn().Compile(src, WantString, DefaultLimits)
		if err == nil || !strings.Contains(err.Error(), "undeclared reference") {
			t.Errorf("%s compiled (or failed differently): %v", src, err)
		}
	}
}

// The sandbox cannot be talked into opening a path: a file name is just a string, and
// none of the string functions touch it.
func TestStringsStayStrings(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := compile(t, SignIn(), `string(bytes("`+secret+`")).contains("s3cret") || "`+secret+`".matches("s3cret")`, WantBool)
	got, err := p.Bool(context.Background(), NewActivation(testIn))
	if err != nil || got {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestEvaluate(t *testing.T) {
	ctx := context.Background()
	act := NewActivation(testIn)
	if s, err := compile(t, SignIn(), `profile.email.split("@")[0] + "/" + provider`, WantString).String(ctx, act); err != nil || s != "alice/oidc" {
		t.Errorf("string: %q %v", s, err)
	}
	if b, err := compile(t, SignIn(), `"ops" in claims.groups && claims.employee_id + 1 == 12346`, WantBool).Bool(ctx, act); err != nil || !b {
		t.Errorf("bool: %v %v", b, err)
	}
	m, err := compile(t, SignIn(), `{"metadata.annotations.example.com/employee-id": claims.employee_id, "spec.profile.email": profile.email}`, WantStringMap).StringMap(ctx, act)
	if err != nil || m["metadata.annotations.example.com/employee-id"] != "12345" || m["spec.profile.email"] != "alice@example.com" {
		t.Errorf("map: %v %v", m, err)
	}
	l, err := compile(t, SignIn(), `claims.?groups.orValue([]).map(g, "group:default/" + g)`, WantStringList).StringList(ctx, act, 10)
	if err != nil || !slices.Equal(l, []string{"group:default/dev", "group:default/ops"}) {
		t.Errorf("list: %v %v", l, err)
	}
	id := Identity{UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"group:default/ops"}}
	if b, err := compile(t, Policy(), `identity.userEntityRef.startsWith("user:") && "group:default/ops" in identity.ownershipEntityRefs`, WantBool).Bool(ctx, act.WithIdentity(id)); err != nil || !b {
		t.Errorf("identity: %v %v", b, err)
	}
}

func TestEvalErrors(t *testing.T) {
	ctx := context.Background()
	act := NewActivation(testIn)
	for _, tc := range []struct {
		src  string
		want Want
		kind ErrKind
		msg  string
	}{
		{`claims.department == "eng"`, WantBool, ErrRuntime, "at 1:7: no such key: department"},
		{`claims.groups + 1 == 2`, WantBool, ErrRuntime, "no such overload"},
		{`claims.groups`, WantString, ErrResultType, "the expression returned a list, want a string"},
		{`claims.ratio`, WantBool, ErrResultType, "returned a number, want a bool"},
		{`{"k": claims.groups}`, WantStringMap, ErrResultType, `the value for "k" is a list, want a string`},
		{`claims.nested`, WantStringList, ErrResultType, "returned a map, want a list of strings"},
		{`[claims.ratio]`, WantStringList, ErrResultType, "element 0 is a number, want a string"},
		{`claims.groups.map(g, [g, g, g, g])`, WantStringList, ErrResultType, "element 0 is a list"},
		{`lists.range(20).map(a, lists.range(20).map(b, lists.range(20).map(c, lists.range(20).map(d, a+b+c+d)))).size() > 0`, WantBool, ErrCostLimit, "exceeded the cost limit (100000)"},
	} {
		// A time limit the cost limit is always reached before, even under -race.
		p, err := SignIn().Compile(tc.src, tc.want, Limits{Cost: DefaultLimits.Cost, Time: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		err = evalAs(ctx, p, tc.want, act, 10)
		var ee *EvalError
		if !errors.As(err, &ee) || ee.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v (%+v), want kind %d %q", tc.src, err, ee, tc.kind, tc.msg)
		}
	}
	p := compile(t, SignIn(), `lists.range(100).map(x, "g")`, WantStringList)
	if _, err := p.StringList(ctx, act, 50); err == nil || !strings.Contains(err.Error(), "returned 100 values, more than the limit of 50") {
		t.Errorf("list limit: %v", err)
	}
}

func TestTimeLimitAndCancellation(t *testing.T) {
	heavy := `lists.range(1000).map(a, lists.range(1000).map(b, a+b)).size() > 0`
	p, err := SignIn().Compile(heavy, WantBool, Limits{Cost: 1 << 62, Time: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Bool(context.Background(), NewActivation(testIn))
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Kind != ErrTimeLimit || !strings.Contains(err.Error(), "exceeded the time limit (1ms)") {
		t.Fatalf("time limit: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, _ = SignIn().Compile(heavy, WantBool, Limits{Cost: 1 << 62, Time: time.Minute})
	if _, err = p.Bool(ctx, NewActivation(testIn)); !errors.As(err, &ee) || ee.Kind != ErrCancelled {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	deep := any("leaf")
	for range MaxDepth + 5 {
		deep = []any{deep}
	}
	claims := map[string]any{"n": float64(3), "big": float64(1 << 60), "f": 1.5, "s": "a\xffb", "list": []string{"x"}, "deep": deep, "odd": struct{}{}}
	act := NewActivation(Input{Claims: claims})
	if claims["s"] != "a\xffb" || claims["n"] != float64(3) {
		t.Fatal("the provider's claims were modified")
	}
	c := act.Claims()
	if c["n"] != int64(3) || c["big"] != float64(1<<60) || c["f"] != 1.5 || c["s"] != "a\uFFFDb" {
		t.Errorf("mapped claims: %#v", c)
	}
	p := compile(t, SignIn(), `claims.odd == null && claims.list[0] == "x" && type(claims.n) == int`, WantBool)
	if b, err := p.Bool(context.Background(), act); err != nil || !b {
		t.Errorf("mapped values: %v %v", b, err)
	}
	levels := 0
	for v := c["deep"]; ; levels++ {
		l, ok := v.([]any)
		if !ok {
			if v != types.NullValue {
				t.Errorf("below MaxDepth: %#v, want null", v)
			}
			break
		}
		v = l[0]
	}
	if levels != MaxDepth {
		t.Errorf("kept %d levels, want %d", levels, MaxDepth)
	}
}

// evalAs evaluates p with the typed method for want.
func evalAs(ctx context.Context, p *Program, want Want, act *Activation, max int) error {
	var err error
	switch want {
	case WantBool:
		_, err = p.Bool(ctx, act)
	case WantString:
		_, err = p.String(ctx, act)
	case WantStringMap:
		_, err = p.StringMap(ctx, act)
	case WantStringList:
		_, err = p.StringList(ctx, act, max)
	}
	return err
}
