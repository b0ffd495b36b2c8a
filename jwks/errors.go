package jwks

import "fmt"

// Backstage error class names this package's errors carry. jwks imports no other
// package of this module, so it has its own error type; the HTTP layer reads the class
// through BackstageErrorName (internal/backstageerr.Named) and maps it to a status.
const (
	ClassInput          = "InputError"          // 400: a bad claim from a resolver
	ClassAuthentication = "AuthenticationError" // 401: a token that does not verify
	ClassError          = "Error"               // 500: e.g. an excessively large token
)

// Error is a jwks error with the Backstage class the Node backend would report.
type Error struct {
	Class   string
	Message string
	Cause   error
}

func (e *Error) Error() string              { return e.Message }
func (e *Error) Unwrap() error              { return e.Cause }
func (e *Error) BackstageErrorName() string { return e.Class }

func classed(class string, cause error, format string, args ...any) *Error {
	return &Error{Class: class, Message: fmt.Sprintf(format, args...), Cause: cause}
}
