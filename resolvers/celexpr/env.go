package celexpr

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
)

// Variable names of the input.
const (
	VarProvider = "provider"
	VarProfile  = "profile"
	VarClaims   = "claims"
	VarIdentity = "identity"
)

// MaxExpressionLength is the longest expression source accepted, in code points.
const MaxExpressionLength = 4096

// Limits bound one evaluation.
type Limits struct {
	// Cost is CEL's runtime cost limit (roughly, one unit per operation or element
	// visited).
	Cost uint64
	// Time is the wall-clock limit, checked between comprehension iterations.
	Time time.Duration
}

// DefaultLimits are generous for what sign-in expressions do (a claims.groups.map over a
// few hundred groups costs a few thousand). A CEL cost unit takes up to about 0.8µs
// (measured on allocation-heavy nested comprehensions), so the cost limit bounds an
// evaluation to tens of milliseconds; the time limit is the backstop for what the cost
// model underestimates (it is also hit first under the race detector).
var DefaultLimits = Limits{Cost: 100_000, Time: time.Second}

// Profile is the verified profile as expressions see it: profile.email,
// profile.displayName, profile.picture ("" when the provider gave none).
type Profile struct {
	Email       string `cel:"email"`
	DisplayName string `cel:"displayName"`
	Picture     string `cel:"picture"`
}

// Identity is the resolved identity as policy expressions see it.
type Identity struct {
	UserEntityRef       string   `cel:"userEntityRef"`
	OwnershipEntityRefs []string `cel:"ownershipEntityRefs"`
}

// Env is a compiled-in CEL environment; it is immutable and safe for concurrent use.
type Env struct {
	env *cel.Env
}

var (
	signInEnv = sync.OnceValues(func() (*Env, error) { return newEnv(false) })
	policyEnv = sync.OnceValues(func() (*Env, error) { return newEnv(true) })
)

// SignIn returns the environment of the expression resolver: provider, profile, claims.
func SignIn() *Env { return must(signInEnv()) }

// Policy returns the environment of sign-in policy rules: the sign-in input plus
// identity.
func Policy() *Env { return must(policyEnv()) }

func must(e *Env, err error) *Env {
	if err != nil {
		// The declarations are constants of this package: an error is a programming error
		// that every test would hit.
		panic("celexpr: " + err.Error())
	}
	return e
}

func newEnv(withIdentity bool) (*Env, error) {
	types := []any{reflect.TypeOf(Profile{})}
	vars := []cel.EnvOption{
		cel.Variable(VarProvider, cel.StringType),
		cel.Variable(VarProfile, cel.ObjectType("celexpr.Profile")),
		cel.Variable(VarClaims, cel.MapType(cel.StringType, cel.DynType)),
	}
	if withIdentity {
		types = append(types, reflect.TypeOf(Identity{}))
		vars = append(vars, cel.Variable(VarIdentity, cel.ObjectType("celexpr.Identity")))
	}
	opts := []cel.EnvOption{
		ext.NativeTypes(append(types, ext.ParseStructTags(true))...),
		// Pure libraries only; TestNoIOFunctions lists every function they declare.
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
		cel.OptionalTypes(),
		cel.ParserExpressionSizeLimit(MaxExpressionLength),
	}
	e, err := cel.NewEnv(append(opts, vars...)...)
	if err != nil {
		return nil, err
	}
	return &Env{env: e}, nil
}

// FunctionNames lists every function an expression can call, sorted (for tests and
// documentation).
func (e *Env) FunctionNames() []string {
	fns := e.env.Functions()
	out := make([]string, 0, len(fns))
	for n := range fns {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Want is the result type an option requires.
type Want int

const (
	// WantBool is a condition (deny, policy expression rules).
	WantBool Want = iota + 1
	// WantString is a message or an entity ref.
	WantString
	// WantStringMap is a catalog filter: a map with string keys whose values are
	// strings (ints are accepted and written in decimal).
	WantStringMap
	// WantStringList is a list of strings (ownership refs).
	WantStringList
)

func (w Want) String() string {
	switch w {
	case WantBool:
		return "a bool"
	case WantString:
		return "a string"
	case WantStringMap:
		return "a map of strings"
	case WantStringList:
		return "a list of strings"
	}
	return "a value"
}

// Issue is one compile problem at a 1-based line and column of the expression.
type Issue struct {
	Line, Column int
	Message      string
}

func (i Issue) String() string {
	if i.Line <= 0 {
		return i.Message
	}
	return fmt.Sprintf("at %d:%d: %s", i.Line, i.Column, i.Message)
}

// CompileError is an expression that does not parse, does not type-check, or has the
// wrong result type.
type CompileError struct {
	Issues []Issue
}

func (e *CompileError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = is.String()
	}
	return strings.Join(parts, "; ")
}

// Compile parses and type-checks src in e and checks that its result can be want; dyn
// results (such as a claim) are checked when evaluated.
func (e *Env) Compile(src string, want Want, limits Limits) (*Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{Issues: []Issue{{Message: "the expression is empty"}}}
	}
	ast, iss := e.env.Compile(src)
	if iss.Err() != nil {
		ce := &CompileError{}
		for _, er := range iss.Errors() {
			ce.Issues = append(ce.Issues, Issue{Line: er.Location.Line(), Column: er.Location.Column() + 1, Message: er.Message})
		}
		return nil, ce
	}
	if msg := checkOutput(ast.OutputType(), want); msg != "" {
		return nil, &CompileError{Issues: []Issue{{Line: 1, Column: 1, Message: msg}}}
	}
	prg, err := e.env.Program(ast,
		cel.CostLimit(limits.Cost),
		cel.InterruptCheckFrequency(64),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, &CompileError{Issues: []Issue{{Message: err.Error()}}}
	}
	iterates := len(celast.MatchDescendants(celast.NavigateAST(ast.NativeRep()), celast.KindMatcher(celast.ComprehensionKind))) > 0
	return &Program{prg: prg, ast: ast, want: want, limits: limits, iterates: iterates}, nil
}

// checkOutput returns why a result of type t cannot be want ("" when it can).
func checkOutput(t *cel.Type, want Want) string {
	k := t.Kind()
	if k == cel.DynKind || k == cel.AnyKind {
		return ""
	}
	ok := false
	switch want {
	case WantBool:
		ok = k == cel.BoolKind
	case WantString:
		ok = k == cel.StringKind
	case WantStringMap:
		if k == cel.MapKind {
			key := t.Parameters()[0].Kind()
			ok = key == cel.StringKind || key == cel.DynKind
		}
	case WantStringList:
		ok = k == cel.ListKind
	}
	if ok {
		return ""
	}
	msg := fmt.Sprintf("the expression returns %s, want %s", t.String(), want)
	if k == cel.OpaqueKind && strings.HasPrefix(t.String(), "optional_type") {
		msg += " (end an optional chain with .orValue(...))"
	}
	return msg
}
