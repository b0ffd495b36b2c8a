// Package upstream holds what every provider that talks to an IdP shares about the
// IdP's answers: reducing an IdP's error code or text to something safe to show a user
// (never markup, never a whole body), reading a bounded body, and telling a timeout
// from other transport failures. It is internal to providers: the router never sees an
// IdP answer.
package upstream
