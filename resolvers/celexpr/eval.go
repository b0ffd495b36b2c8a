package celexpr

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"
)

// Program is a compiled expression; it is safe for concurrent use.
type Program struct {
	prg    cel.Program
	ast    *cel.Ast
	want   Want
	limits Limits
	// iterates is whether the expression has a comprehension (map, filter, exists...):
	// only those can run long, and only they are interrupted by a context, so the
	// others skip the context's cost.
	iterates bool
}

// ErrKind classifies an evaluation failure.
type ErrKind int

const (
	// ErrRuntime is an error CEL raised: a missing map key (a claim the IdP did not
	// send), an operator applied to the wrong types, a division by zero...
	ErrRuntime ErrKind = iota + 1
	// ErrResultType is a result of the wrong type (a dyn claim that was not a string...).
	ErrResultType
	// ErrCostLimit is an evaluation stopped by the cost limit.
	ErrCostLimit
	// ErrTimeLimit is an evaluation stopped by the time limit.
	ErrTimeLimit
	// ErrCancelled is an evaluation stopped because the request's context ended.
	ErrCancelled
)

// EvalError is a failed evaluation. Pos is "line:column" of the failing
// sub-expression when CEL says which one.
type EvalError struct {
	Kind ErrKind
	Pos  string
	Msg  string
	Err  error
}

func (e *EvalError) Error() string {
	if e.Pos != "" {
		return "at " + e.Pos + ": " + e.Msg
	}
	return e.Msg
}

func (e *EvalError) Unwrap() error { return e.Err }

// eval runs the program under its limits. The time limit applies to this evaluation
// only: the caller's ctx (which also bounds catalog calls) is not shortened.
func (p *Program) eval(ctx context.Context, act *Activation) (ref.Val, error) {
	var out ref.Val
	var err error
	if p.iterates {
		ectx, cancel := context.WithTimeout(ctx, p.limits.Time)
		out, _, err = p.prg.ContextEval(ectx, act)
		cancel()
	} else {
		out, _, err = p.prg.Eval(act)
	}
	if err == nil {
		return out, nil
	}
	var cancelled interpreter.EvalCancelledError
	switch {
	case errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded:
		return nil, &EvalError{Kind: ErrCostLimit, Msg: fmt.Sprintf("the expression exceeded the cost limit (%d)", p.limits.Cost), Err: err}
	case errors.Is(err, interpreter.InterruptError{}) || errors.As(err, &cancelled):
		if ctx.Err() != nil {
			return nil, &EvalError{Kind: ErrCancelled, Msg: "the sign-in request ended before the expression finished", Err: ctx.Err()}
		}
		return nil, &EvalError{Kind: ErrTimeLimit, Msg: fmt.Sprintf("the expression exceeded the time limit (%s)", p.limits.Time), Err: err}
	}
	ee := &EvalError{Kind: ErrRuntime, Msg: err.Error(), Err: err}
	var ce *types.Err
	if errors.As(err, &ce) && ce.NodeID() != 0 {
		if loc := p.ast.NativeRep().SourceInfo().GetStartLocation(ce.NodeID()); loc.Line() > 0 {
			ee.Pos = fmt.Sprintf("%d:%d", loc.Line(), loc.Column()+1)
		}
	}
	return nil, ee
}

func resultTypeError(got ref.Val, want Want) error {
	return &EvalError{Kind: ErrResultType, Msg: fmt.Sprintf("the expression returned %s, want %s", typeName(got), want)}
}

// typeName names a CEL value's type for messages (never its value: a claim may be
// something the user should not see in an error page).
func typeName(v ref.Val) string {
	switch v.Type() {
	case types.NullType:
		return "null"
	case types.BoolType:
		return "a bool"
	case types.StringType:
		return "a string"
	case types.IntType, types.UintType, types.DoubleType:
		return "a number"
	case types.ListType:
		return "a list"
	case types.MapType:
		return "a map"
	}
	return "a " + v.Type().TypeName()
}

// Bool evaluates a WantBool program.
func (p *Program) Bool(ctx context.Context, act *Activation) (bool, error) {
	out, err := p.eval(ctx, act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, resultTypeError(out, WantBool)
	}
	return bool(b), nil
}

// String evaluates a WantString program.
func (p *Program) String(ctx context.Context, act *Activation) (string, error) {
	out, err := p.eval(ctx, act)
	if err != nil {
		return "", err
	}
	s, ok := out.(types.String)
	if !ok {
		return "", resultTypeError(out, WantString)
	}
	return string(s), nil
}

// StringMap evaluates a WantStringMap program. Integer values are written in decimal
// (an employee number claim); any other non-string value is an error.
func (p *Program) StringMap(ctx context.Context, act *Activation) (map[string]string, error) {
	out, err := p.eval(ctx, act)
	if err != nil {
		return nil, err
	}
	m, ok := out.(traits.Mapper)
	if !ok || out.Type() != types.MapType {
		return nil, resultTypeError(out, WantStringMap)
	}
	res := make(map[string]string, int(m.Size().(types.Int)))
	for it := m.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		ks, ok := k.(types.String)
		if !ok {
			return nil, &EvalError{Kind: ErrResultType, Msg: fmt.Sprintf("the expression returned a map with a key that is %s, want strings", typeName(k))}
		}
		v := m.Get(k)
		switch v := v.(type) {
		case types.String:
			res[string(ks)] = string(v)
		case types.Int:
			res[string(ks)] = strconv.FormatInt(int64(v), 10)
		case types.Uint:
			res[string(ks)] = strconv.FormatUint(uint64(v), 10)
		default:
			return nil, &EvalError{Kind: ErrResultType, Msg: fmt.Sprintf("the value for %q is %s, want a string", string(ks), typeName(v))}
		}
	}
	return res, nil
}

// StringList evaluates a WantStringList program; at most max elements are accepted.
func (p *Program) StringList(ctx context.Context, act *Activation, max int) ([]string, error) {
	out, err := p.eval(ctx, act)
	if err != nil {
		return nil, err
	}
	l, ok := out.(traits.Lister)
	if !ok || out.Type() != types.ListType {
		return nil, resultTypeError(out, WantStringList)
	}
	n := int(l.Size().(types.Int))
	if n > max {
		return nil, &EvalError{Kind: ErrResultType, Msg: fmt.Sprintf("the expression returned %d values, more than the limit of %d", n, max)}
	}
	res := make([]string, 0, n)
	for i := range n {
		v := l.Get(types.Int(i))
		s, ok := v.(types.String)
		if !ok {
			return nil, &EvalError{Kind: ErrResultType, Msg: fmt.Sprintf("element %d is %s, want a string", i, typeName(v))}
		}
		res = append(res, string(s))
	}
	return res, nil
}
