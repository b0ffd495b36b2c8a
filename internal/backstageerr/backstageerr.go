package backstageerr

import (
	"errors"
	"fmt"
)

// Backstage error class names, as they appear in error JSON and popup messages.
const (
	NameInput              = "InputError"
	NameAuthentication     = "AuthenticationError"
	NameNotAllowed         = "NotAllowedError"
	NameNotFound           = "NotFoundError"
	NameConflict           = "ConflictError"
	NameNotImplemented     = "NotImplementedError"
	NameServiceUnavailable = "ServiceUnavailableError"
	NameNotModified        = "NotModifiedError"
	// NameError is the plain JavaScript Error (HTTP 500 when it reaches the error handler).
	NameError = "Error"
	// NameSyntax and NamePayloadTooLarge are express.json's errors for a malformed and an
	// oversized body; they carry their status (400, 413), which Backstage's error
	// handler answers with.
	NameSyntax          = "SyntaxError"
	NamePayloadTooLarge = "PayloadTooLargeError"
)

// Error is a Backstage-named error. Message is the full message as Backstage would
// render it, including any "; caused by ..." suffix.
type Error struct {
	Name    string
	Message string
	Cause   error
	// Detail is for the operator's log only (internal addresses, upstream answers): the
	// HTTP layer logs it under a logId and shows the user Message with that logId.
	Detail string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error of the given Backstage class.
func New(name, format string, args ...any) *Error {
	return &Error{Name: name, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of class name whose message follows Backstage's CustomErrorBase:
// "<msg>; caused by <CauseName>: <causeMessage>".
func Wrap(name string, cause error, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if cause != nil {
		msg = fmt.Sprintf("%s; caused by %s: %s", msg, NameOf(cause), MessageOf(cause))
	}
	return &Error{Name: name, Message: msg, Cause: cause}
}

func Input(format string, args ...any) *Error { return New(NameInput, format, args...) }
func Authentication(format string, args ...any) *Error {
	return New(NameAuthentication, format, args...)
}
func NotAllowed(format string, args ...any) *Error { return New(NameNotAllowed, format, args...) }
func NotFound(format string, args ...any) *Error   { return New(NameNotFound, format, args...) }
func Conflict(format string, args ...any) *Error   { return New(NameConflict, format, args...) }
func NotImplemented(format string, args ...any) *Error {
	return New(NameNotImplemented, format, args...)
}
func ServiceUnavailable(format string, args ...any) *Error {
	return New(NameServiceUnavailable, format, args...)
}

// Plain returns a plain JavaScript-style Error (name "Error").
func Plain(format string, args ...any) *Error { return New(NameError, format, args...) }

// As returns the outermost *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var be *Error
	if errors.As(err, &be) {
		return be, true
	}
	return nil, false
}

// NameOf returns the Backstage class name of err: the name of the first Backstage-classed
// error in its chain, or "Error" for any other error.
func NameOf(err error) string {
	if be, ok := As(err); ok {
		return be.Name
	}
	return NameError
}

// MessageOf returns the message Backstage would show for err: the *Error's own message
// when err is (or directly is) a Backstage error, else err.Error().
func MessageOf(err error) string {
	if t, ok := err.(*Error); ok {
		return t.Message
	}
	return err.Error()
}

// IsNotFound reports whether err is (or wraps) a NotFoundError; resolvers chain on it.
func IsNotFound(err error) bool { return NameOf(err) == NameNotFound }

// Status maps a Backstage error class name to its HTTP status, as
// @backstage/errors' error handler does.
func Status(name string) int {
	switch name {
	case NameNotModified:
		return 304
	case NameInput, NameSyntax:
		return 400
	case NameAuthentication:
		return 401
	case NameNotAllowed:
		return 403
	case NameNotFound:
		return 404
	case NameConflict:
		return 409
	case NamePayloadTooLarge:
		return 413
	case NameNotImplemented:
		return 501
	case NameServiceUnavailable:
		return 503
	default:
		return 500
	}
}
