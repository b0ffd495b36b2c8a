package mockkit

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Request is one recorded request.
type Request struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Query  url.Values  `json:"query,omitempty"`
	Form   url.Values  `json:"form,omitempty"`
	Header http.Header `json:"headers"`
	Time   time.Time   `json:"time"`
}

// Recorder keeps the requests a mock served. The zero value is ready; Now defaults to
// time.Now.
type Recorder struct {
	Now      func() time.Time
	mu       sync.Mutex
	requests []Request
}

// Record parses r's form and records it.
func (rc *Recorder) Record(r *http.Request) {
	_ = r.ParseForm()
	now := time.Now
	if rc.Now != nil {
		now = rc.Now
	}
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Form: r.PostForm, Header: r.Header.Clone(), Time: now()}
	rc.mu.Lock()
	rc.requests = append(rc.requests, rec)
	rc.mu.Unlock()
}

// Requests returns the recorded requests, oldest first.
func (rc *Recorder) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.requests)
}

// RequestsTo returns the recorded requests whose path ends with suffix (e.g. "/token").
func (rc *Recorder) RequestsTo(suffix string) []Request {
	var out []Request
	for _, r := range rc.Requests() {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (rc *Recorder) ResetRequests() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests = nil
}

// TB is the part of testing.TB a mock's Start needs (the mock binary does not link
// testing).
type TB interface {
	Helper()
	Cleanup(func())
}

// AuthorizePages are what a mock answers to an authorize request it cannot send back
// to the client (its vendor's texts).
type AuthorizePages struct {
	// UnknownClient is shown with UnknownClientStatus (default 400) for another
	// client_id.
	UnknownClient       string
	UnknownClientStatus int
	// BadRedirect is shown for a redirect_uri that is not an absolute http(s) URL,
	// Unregistered (default BadRedirect) for one not in the allowlist.
	BadRedirect, Unregistered string
}

// CheckAuthorize checks an authorize request's method (GET or POST), client_id and
// redirect_uri. It returns the redirect URI, or false after answering with the pages.
func CheckAuthorize(w http.ResponseWriter, r *http.Request, clientID string, allow []string, p AuthorizePages) (*url.URL, bool) {
	_ = r.ParseForm()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	if r.Form.Get("client_id") != clientID {
		http.Error(w, p.UnknownClient, cmp.Or(p.UnknownClientStatus, http.StatusBadRequest))
		return nil, false
	}
	raw := r.Form.Get("redirect_uri")
	if _, ok := RedirectURI(raw, nil); !ok {
		http.Error(w, p.BadRedirect, http.StatusBadRequest)
		return nil, false
	}
	ru, ok := RedirectURI(raw, allow)
	if !ok {
		http.Error(w, cmp.Or(p.Unregistered, p.BadRedirect), http.StatusBadRequest)
		return nil, false
	}
	return ru, true
}

// RedirectURI parses a client's redirect_uri: an absolute http(s) URL, in allow when
// allow is not empty.
func RedirectURI(raw string, allow []string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, false
	}
	if len(allow) > 0 && !slices.Contains(allow, raw) {
		return nil, false
	}
	return u, true
}

// RedirectBack sends the browser to redirect_uri with params added (and state when
// not empty).
func RedirectBack(w http.ResponseWriter, r *http.Request, ru *url.URL, state string, params url.Values) {
	q := ru.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u := *ru
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// ChallengeOK reports whether an authorize request's PKCE parameters are absent or an
// S256 challenge (the only method the mocks, like GitHub, accept).
func ChallengeOK(challenge, method string) bool {
	return (challenge == "" && method == "") || (method == "S256" && len(challenge) == 43)
}

// VerifierMatches reports whether verifier is the S256 preimage of challenge.
func VerifierMatches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

// Delay waits d or until the request ends; it reports whether to go on. A request
// that ended (the client gave up) is aborted without an answer: returning from the
// handler would send an empty 200, which a client whose deadline races with the
// connection's close can still read and take for the vendor's answer.
func Delay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		panic(http.ErrAbortHandler)
	}
}

// WriteJSON writes v as a JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
