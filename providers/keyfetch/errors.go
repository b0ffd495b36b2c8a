package keyfetch

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Error texts name the key endpoint's URL: they are for the operator's log. A provider
// shows its users its own words.

// UnavailableError is a key fetch that got no usable answer: the request failed, timed
// out or was refused with an HTTP status (5xx, 404 for a JWK set, ...). Nothing was
// learnt about any key.
type UnavailableError struct {
	URL string
	// Status is the HTTP status the endpoint answered, 0 when it did not answer.
	Status int
	// Err is the transport failure (nil when Status is set).
	Err        error
	retryAfter time.Duration
}

func (e *UnavailableError) Error() string {
	if e.Status != 0 {
		return "key endpoint " + e.URL + " answered HTTP " + strconv.Itoa(e.Status)
	}
	return "key endpoint " + e.URL + ": " + e.Err.Error()
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// RetryAfter is how long until the fetcher asks the endpoint again.
func (e *UnavailableError) RetryAfter() time.Duration { return e.retryAfter }

// MalformedError is an answer (HTTP 200) that is not a key set: not JSON, no keys
// array, not a PEM public key, or larger than the size bound. Nothing was learnt about
// any key either: a proxy's error page is not the IdP's decision.
type MalformedError struct {
	URL        string
	Reason     string
	retryAfter time.Duration
}

func (e *MalformedError) Error() string {
	return "key endpoint " + e.URL + " answered " + e.Reason
}

// RetryAfter is how long until the fetcher asks the endpoint again.
func (e *MalformedError) RetryAfter() time.Duration { return e.retryAfter }

// UnknownKeyError is a token whose kid the key endpoint does not have: its key set
// answered without it (or, per-kid PEM, the kid's URL answered 404), or a key set
// fetched moments ago lacks it and the refetch rate limit holds.
type UnknownKeyError struct {
	KID string
	// RateLimited: the key set was not asked again because it was asked recently.
	RateLimited bool
}

func (e *UnknownKeyError) Error() string {
	what := "no key with kid " + strconv.Quote(e.KID)
	if e.KID == "" {
		what = "no key for a token without kid"
	}
	if e.RateLimited {
		return what + " (the key set was fetched moments ago)"
	}
	return what
}

// UnusableKeyError is a key that exists under the token's kid but cannot verify it:
// another key type or curve than the token's algorithm, a JWK alg or use that does not
// allow it, too weak a key, a symmetric key.
type UnusableKeyError struct {
	KID    string
	Reason string
}

func (e *UnusableKeyError) Error() string {
	return fmt.Sprintf("the key %q cannot verify this token: %s", e.KID, e.Reason)
}

// TokenError is a token that is not a compact JWS this fetcher verifies.
type TokenError struct{ Reason string }

func (e *TokenError) Error() string { return "the token " + e.Reason }

// SignatureError is a signature that no key with the token's kid verifies.
type SignatureError struct{ KID string }

func (e *SignatureError) Error() string {
	return "the token's signature does not verify with key " + strconv.Quote(e.KID)
}

// Undecided reports whether err means that the key endpoint gave no usable answer, so
// nothing could be decided about the token (503, not 401).
func Undecided(err error) bool {
	var u *UnavailableError
	var m *MalformedError
	return errors.As(err, &u) || errors.As(err, &m)
}

// withRetryAfter returns a copy of a recorded fetch failure that says how long until
// the next attempt.
func withRetryAfter(err error, d time.Duration) error {
	d = max(d, time.Second)
	switch e := err.(type) {
	case *UnavailableError:
		c := *e
		c.retryAfter = d
		return &c
	case *MalformedError:
		c := *e
		c.retryAfter = d
		return &c
	}
	return err
}
