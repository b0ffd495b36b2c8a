package sessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Record is one sign-in session.
type Record struct {
	ID string
	// UserEntityRef is the signed-in user ("" when the provider has no resolver).
	UserEntityRef string
	Provider      string
	CreatedAt     time.Time
	// ExpiresAt is when the session ends anyway (sign-in + sessionDuration, or the
	// provider's own end); the record and its revocation are kept until then.
	ExpiresAt time.Time
}

// Revoked is one ended session, kept until it would have expired.
type Revoked struct {
	ID        string
	ExpiresAt time.Time
}

// Store persists sessions (package authdb implements it).
type Store interface {
	// Insert records a new session.
	Insert(ctx context.Context, r Record) error
	// Revoke ends one session: a tombstone kept until expiresAt (used when no record
	// of the session is left), the record deleted. It reports whether a record of a
	// live session existed, and its user. Shared stores tell the other processes
	// (Notifier).
	Revoke(ctx context.Context, id string, expiresAt, at time.Time) (userRef string, existed bool, err error)
	// RevokeUser ends every live session of userRef and returns them, and how many
	// other sessions of the user (the OIDC server's offline sessions, which a Node
	// backend sharing the database may hold) it ended besides.
	RevokeUser(ctx context.Context, userRef string, at time.Time) (revs []Revoked, others int, err error)
	// ListRevoked returns the tombstones that expire after now.
	ListRevoked(ctx context.Context, now time.Time) ([]Revoked, error)
	// Prune deletes records and tombstones that expired before t.
	Prune(ctx context.Context, before time.Time) (int, error)
}

// Notifier is implemented by stores shared between processes. Listen returns once it
// is listening; then it calls onNotify from a background goroutine with the payload
// of every revocation (EncodePayload's format; own: this process's own), and with
// ("", false) after every (re)connect, until ctx ends.
type Notifier interface {
	Listen(ctx context.Context, onNotify func(payload string, own bool)) error
}

// MaxPayload bounds a notification's payload (PostgreSQL allows just under 8000
// bytes); larger revocations are announced as "reload".
const MaxPayload = 7000

// EncodePayload is what a store sends for revs: "id:unixexp,..." or, when that does
// not fit, "" (which tells listeners to reload).
func EncodePayload(revs []Revoked) string {
	var b strings.Builder
	for i, r := range revs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.ID)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(r.ExpiresAt.Unix(), 10))
		if b.Len() > MaxPayload {
			return ""
		}
	}
	return b.String()
}

// decodePayload parses EncodePayload's format; ok is false for "" or anything
// malformed (the listener then reloads).
func decodePayload(p string) (revs []Revoked, ok bool) {
	if p == "" {
		return nil, false
	}
	for part := range strings.SplitSeq(p, ",") {
		id, exp, found := strings.Cut(part, ":")
		n, err := strconv.ParseInt(exp, 10, 64)
		if !found || err != nil || !ValidID(id) {
			return nil, false
		}
		revs = append(revs, Revoked{ID: id, ExpiresAt: time.Unix(n, 0)})
	}
	return revs, true
}

// idLen is the length of a session id: 16 random bytes in hex.
const idLen = 32

// ValidID reports whether id has the shape of a session id.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ErrUnavailable wraps store failures on a request path (the database did not answer
// in time); the router answers them with 503.
var ErrUnavailable = errors.New("the session store is unavailable")

// Options configure a Registry.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// Now and Rand are injected for tests (default time.Now, crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// Timeout bounds each store call made for a request (default 2 s).
	Timeout time.Duration
	// ReloadInterval is how often the revoked set is reloaded from the store whatever
	// the notifications said (default 10 s).
	ReloadInterval time.Duration
	// PruneInterval is how often expired records are deleted (default 10 min).
	PruneInterval time.Duration
}

// Registry creates, revokes and checks sessions. Revoked is the refresh hot path: one
// lookup in an immutable map behind an atomic pointer.
type Registry struct {
	store   Store
	log     *slog.Logger
	now     func() time.Time
	rand    io.Reader
	timeout time.Duration
	reload  time.Duration
	prune   time.Duration

	revoked atomic.Pointer[map[string]int64] // id -> expiry (Unix seconds)
	mu      sync.Mutex                       // serialises writers of revoked
	reloads chan struct{}
	// listening: a Notifier delivers revocations; End then waits (bounded) for its own
	// notification to come back, by when the database has handed it to every listener.
	listening atomic.Bool
	echoMu    sync.Mutex
	echoes    map[string]chan struct{}
	// pending are this process's revocations the store has not taken yet (the
	// database was down): retried until it does, so no logout is lost.
	pendingMu sync.Mutex
	pending   map[string]time.Time
}

// echoWait bounds how long End waits for its notification to come back.
const echoWait = time.Second

// retryInterval is how often revocations the store did not take are tried again;
// maxPending bounds how many are kept (the oldest are dropped, with a warning).
const (
	retryInterval = time.Second
	maxPending    = 10000
)

// New returns a Registry over opts.Store; Start loads the revoked set.
func New(opts Options) *Registry {
	r := &Registry{store: opts.Store, log: opts.Logger, now: opts.Now, rand: opts.Rand,
		timeout: opts.Timeout, reload: opts.ReloadInterval, prune: opts.PruneInterval,
		reloads: make(chan struct{}, 1), echoes: map[string]chan struct{}{}, pending: map[string]time.Time{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Reader
	}
	if r.timeout <= 0 {
		r.timeout = 2 * time.Second
	}
	if r.reload <= 0 {
		r.reload = 10 * time.Second
	}
	if r.prune <= 0 {
		r.prune = 10 * time.Minute
	}
	empty := map[string]int64{}
	r.revoked.Store(&empty)
	return r
}

// Start loads the revoked set (an error when the store cannot be read: the process
// must not serve refreshes without it), starts listening for other processes'
// revocations and reloads and prunes in the background until ctx ends.
func (r *Registry) Start(ctx context.Context) error {
	if err := r.Reload(ctx); err != nil {
		return err
	}
	if n, ok := r.store.(Notifier); ok {
		if err := n.Listen(ctx, r.onNotify); err != nil {
			// Polling still brings revocations in; log and go on.
			r.log.Warn("sessions: cannot listen for revocations; polling only", "error", err)
		} else {
			r.listening.Store(true)
		}
	}
	go r.loop(ctx)
	return nil
}

func (r *Registry) onNotify(payload string, own bool) {
	if revs, ok := decodePayload(payload); ok {
		if own {
			r.echoed(revs)
		} else {
			r.add(revs)
		}
		return
	}
	if own {
		return
	}
	select {
	case r.reloads <- struct{}{}:
	default:
	}
}

func (r *Registry) loop(ctx context.Context) {
	tick := time.NewTicker(retryInterval)
	defer tick.Stop()
	lastPrune, lastReload := r.now(), r.now()
	for {
		reload := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			reload = r.now().Sub(lastReload) >= r.reload
		case <-r.reloads:
			reload = true
		}
		r.RetryPending(ctx)
		if reload {
			lastReload = r.now()
			if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("sessions: reloading revoked sessions failed; keeping the last known set", "error", err)
			}
		}
		if now := r.now(); now.Sub(lastPrune) >= r.prune {
			lastPrune = now
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if n, err := r.store.Prune(pctx, now); err != nil {
				r.log.Warn("sessions: pruning expired sessions failed", "error", err)
			} else if n > 0 {
				r.log.Debug("sessions: pruned expired sessions", "count", n)
			}
			cancel()
		}
	}
}

// Reload replaces the revoked set with the store's, keeping ids added since (a
// notification that raced the read) and dropping expired ones.
func (r *Registry) Reload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	now := r.now()
	revs, err := r.store.ListRevoked(ctx, now)
	if err != nil {
		return fmt.Errorf("sessions: loading revoked sessions: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.revoked.Load()
	next := make(map[string]int64, len(revs)+len(old))
	cut := now.Unix()
	for id, exp := range old {
		if exp > cut {
			next[id] = exp
		}
	}
	for _, rv := range revs {
		next[rv.ID] = rv.ExpiresAt.Unix()
	}
	r.revoked.Store(&next)
	return nil
}

// add puts revs into the set (copy on write: revocations are rare, refreshes not).
func (r *Registry) add(revs []Revoked) {
	if len(revs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.revoked.Load()
	next := make(map[string]int64, len(old)+len(revs))
	for id, exp := range old {
		next[id] = exp
	}
	for _, rv := range revs {
		next[rv.ID] = rv.ExpiresAt.Unix()
	}
	r.revoked.Store(&next)
}

// Revoked reports whether the session id was ended. It reads memory only.
func (r *Registry) Revoked(id string) bool {
	_, ok := (*r.revoked.Load())[id]
	return ok
}

// Begin records a new session and returns its id. An error wraps ErrUnavailable.
func (r *Registry) Begin(ctx context.Context, userRef, provider string, expiresAt time.Time) (string, error) {
	var b [idLen / 2]byte
	if _, err := io.ReadFull(r.rand, b[:]); err != nil {
		return "", fmt.Errorf("sessions: random id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	rec := Record{ID: id, UserEntityRef: userRef, Provider: provider, CreatedAt: r.now(), ExpiresAt: expiresAt}
	if err := r.store.Insert(ctx, rec); err != nil {
		return "", fmt.Errorf("%w: recording the session: %w", ErrUnavailable, err)
	}
	return id, nil
}

// End revokes one session (logout) here at once and, through the store, everywhere
// else. It reports whether a record of a live session existed, and its user.
func (r *Registry) End(ctx context.Context, id string, expiresAt time.Time) (string, bool, error) {
	if !ValidID(id) {
		return "", false, fmt.Errorf("sessions: invalid session id")
	}
	// Refused here from now on, whatever the store says.
	r.add([]Revoked{{ID: id, ExpiresAt: expiresAt}})
	echo := r.expectEcho(id)
	defer r.dropEcho(id)
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	user, existed, err := r.store.Revoke(ctx, id, expiresAt, r.now())
	if err != nil {
		r.addPending(id, expiresAt)
		return "", false, fmt.Errorf("%w: revoking the session (retried in the background): %w", ErrUnavailable, err)
	}
	r.awaitEcho(ctx, echo)
	return user, existed, nil
}

func (r *Registry) addPending(id string, expiresAt time.Time) {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	if len(r.pending) >= maxPending {
		r.log.Warn("sessions: too many revocations waiting for the database; dropping one")
		for k := range r.pending {
			delete(r.pending, k)
			break
		}
	}
	r.pending[id] = expiresAt
}

// Pending is how many revocations wait for the store.
func (r *Registry) Pending() int {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	return len(r.pending)
}

// RetryPending hands the waiting revocations to the store again; those whose session
// has ended anyway are dropped.
func (r *Registry) RetryPending(ctx context.Context) {
	r.pendingMu.Lock()
	todo := make(map[string]time.Time, len(r.pending))
	for id, exp := range r.pending {
		todo[id] = exp
	}
	r.pendingMu.Unlock()
	now := r.now()
	for id, exp := range todo {
		done := !exp.After(now)
		if !done {
			cctx, cancel := context.WithTimeout(ctx, r.timeout)
			_, _, err := r.store.Revoke(cctx, id, exp, now)
			cancel()
			if err != nil {
				return // still down: try again at the next tick
			}
			done = true
			r.log.Info("sessions: a revocation the database missed was stored")
		}
		r.pendingMu.Lock()
		delete(r.pending, id)
		r.pendingMu.Unlock()
	}
}

// expectEcho registers interest in the notification of id (nil when nobody listens).
func (r *Registry) expectEcho(id string) chan struct{} {
	if !r.listening.Load() {
		return nil
	}
	ch := make(chan struct{})
	r.echoMu.Lock()
	r.echoes[id] = ch
	r.echoMu.Unlock()
	return ch
}

func (r *Registry) dropEcho(id string) {
	r.echoMu.Lock()
	delete(r.echoes, id)
	r.echoMu.Unlock()
}

// echoed wakes the Ends waiting for revs' notification.
func (r *Registry) echoed(revs []Revoked) {
	r.echoMu.Lock()
	defer r.echoMu.Unlock()
	for _, rv := range revs {
		if ch, ok := r.echoes[rv.ID]; ok {
			close(ch)
			delete(r.echoes, rv.ID)
		}
	}
}

// awaitEcho waits until the database delivered our own notification back to us: it
// sends one to every listener at commit, so the other processes have it too (they
// apply it in microseconds). A logout that answers then is seen everywhere at once.
func (r *Registry) awaitEcho(ctx context.Context, ch chan struct{}) {
	if ch == nil {
		return
	}
	t := time.NewTimer(echoWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		r.log.Warn("sessions: the revocation's notification did not come back in time")
	case <-ctx.Done():
	}
}

// EndUser revokes every live session of userRef (offboarding), offline sessions
// included, and returns how many there were.
func (r *Registry) EndUser(ctx context.Context, userRef string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	revs, others, err := r.store.RevokeUser(ctx, userRef, r.now())
	if err != nil {
		return 0, fmt.Errorf("%w: revoking the sessions of %s: %w", ErrUnavailable, userRef, err)
	}
	r.add(revs)
	return len(revs) + others, nil
}
