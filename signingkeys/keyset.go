package signingkeys

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// KeySetOptions configures a KeySet.
type KeySetOptions struct {
	// Store holds the public keys of every process (required).
	Store KeyStore
	// KeyDuration is how long a key signs (Backstage: backstageTokenExpiration).
	KeyDuration time.Duration
	// ListDuration is how long a key stays in the JWKS after it was created;
	// default 3×KeyDuration. It is raised to 2×KeyDuration+PublishDelay if lower,
	// so that every token a key signed stays verifiable until it expires. A store
	// row's ExpiresAt, when set, takes precedence.
	ListDuration time.Duration
	// PublishDelay is how long a new key must have been in the store before it
	// signs, so every replica's in-memory JWKS has picked it up (set it above
	// PollInterval). 0 for single-process stores.
	PublishDelay time.Duration
	// PollInterval reloads the key list from the store this often (0: never).
	PollInterval time.Duration
	// RetryBackoff is the first wait before Start's background loop retries a
	// start-up reload or key insert that failed; it doubles up to 30 s (default 1 s).
	RetryBackoff time.Duration
	// Now defaults to time.Now; Rand (kids) to crypto/rand.Reader; Logger to a
	// discarding logger.
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// KeySet is Backstage's TokenFactory key lifecycle over one KeyStore: it creates
// per-process ES256 keys (private half only in memory), inserts their public JWK
// in the store before first use, rotates them every KeyDuration, keeps the
// listed public keys of every process in memory and prunes expired ones.
type KeySet struct {
	store        KeyStore
	notifier     ChangeNotifier // nil unless the store implements it
	keyDuration  time.Duration
	listDuration time.Duration
	publishDelay time.Duration
	pollInterval time.Duration
	retryBackoff time.Duration
	now          func() time.Time
	rand         io.Reader
	log          *slog.Logger

	// Signing-key lifecycle. cur and newest are read lock-free on the hot path.
	cur      atomic.Pointer[ownKey]
	newest   atomic.Pointer[ownKey]
	mu       sync.Mutex
	own      []*ownKey    // inserted own keys that may still sign, oldest first
	creating *keyCreation // in-flight creation, nil if none
	lastFail time.Time    // last failed creation (clock of s.now), to pace ahead-of-time retries

	// Listed public keys.
	snap       atomic.Pointer[PublicKeySet]
	listMu     sync.Mutex
	stored     []listedKey          // last store listing
	ownListed  map[string]listedKey // own inserted keys, listed even before a reload sees them
	firstSeen  map[string]time.Time // for rows without any timestamp
	badKeys    map[string]bool      // kids already warned about
	version    uint64
	loads      singleflight.Group
	lastReload atomic.Int64 // wall-clock unix nanos of the last completed reload

	changed chan struct{} // coalesced change notifications for the loop
	started atomic.Bool
}

type ownKey struct {
	key         *SigningKey
	createdAt   time.Time
	activeFrom  time.Time // createdAt + PublishDelay
	activeUntil time.Time // activeFrom + KeyDuration
	prepareAt   time.Time // when the successor is created ahead of time
}

func (k *ownKey) usable(now time.Time) bool {
	return !now.Before(k.activeFrom) && now.Before(k.activeUntil)
}

type keyCreation struct {
	done chan struct{}
	err  error
}

var (
	_ KeySource = (*KeySet)(nil)
	_ KeySource = (*StaticKeySet)(nil)
)

// createTimeout bounds one key generation + store insert + notify.
const createTimeout = 30 * time.Second

// maxRetryBackoff caps the wait between retries of a failed start-up.
const maxRetryBackoff = 30 * time.Second

// unknownKIDReloadInterval paces store reloads triggered by tokens with an unknown kid:
// often enough that a key another process (a Node auth backend sharing the database,
// which does not notify) just created is found on the first try, rarely enough that
// tokens with made-up kids cost at most 5 store reads a second.
const unknownKIDReloadInterval = 200 * time.Millisecond

// NewKeySet returns a KeySet; nothing is read or created until Start or first use.
func NewKeySet(opts KeySetOptions) *KeySet {
	s := &KeySet{
		store:        opts.Store,
		keyDuration:  opts.KeyDuration,
		listDuration: opts.ListDuration,
		publishDelay: max(opts.PublishDelay, 0),
		pollInterval: max(opts.PollInterval, 0),
		retryBackoff: opts.RetryBackoff,
		now:          opts.Now,
		rand:         opts.Rand,
		log:          opts.Logger,
		ownListed:    make(map[string]listedKey),
		firstSeen:    make(map[string]time.Time),
		badKeys:      make(map[string]bool),
		changed:      make(chan struct{}, 1),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.retryBackoff <= 0 {
		s.retryBackoff = time.Second
	}
	if s.keyDuration <= 0 {
		s.keyDuration = time.Hour
	}
	if s.listDuration <= 0 {
		s.listDuration = 3 * s.keyDuration
	}
	if minList := 2*s.keyDuration + s.publishDelay; s.listDuration < minList {
		s.log.Warn("signing key list duration too short to cover every token a key signs; raising it",
			"listDuration", s.listDuration, "raisedTo", minList)
		s.listDuration = minList
	}
	if n, ok := opts.Store.(ChangeNotifier); ok {
		s.notifier = n
	}
	if s.publishDelay > 0 && 4*s.publishDelay > s.keyDuration {
		s.log.Warn("publish delay is large compared with the key duration; keys will rotate more often than KeyDuration",
			"publishDelay", s.publishDelay, "keyDuration", s.keyDuration)
	}
	if s.publishDelay > 0 && s.pollInterval == 0 {
		s.log.Warn("publish delay without polling: a replica that misses a change notification (listener startup or reconnect) will not list other replicas' new keys",
			"publishDelay", s.publishDelay)
	}
	if s.publishDelay > 0 && s.pollInterval > 0 && s.publishDelay <= s.pollInterval {
		s.log.Warn("publish delay is not longer than the poll interval; other replicas may not know a new key when it starts signing",
			"publishDelay", s.publishDelay, "pollInterval", s.pollInterval)
	}
	return s
}

// Start loads the listed keys and inserts this process's first signing key (both
// before it returns, so the first request finds them), then runs the background
// loop until ctx ends: store polls, change notifications, and with PublishDelay > 0
// creation of the next key ahead of rotation. It does not wait for the new key's
// PublishDelay.
//
// A failed start-up reload or insert does not fail Start: it is logged and retried
// by the loop with backoff (RetryBackoff, doubling to 30 s) until both succeed, and
// polling and notifications run meanwhile. The database has just been opened and
// migrated when Start runs, so such a failure is a blip, and a replica that stopped
// polling after one would never list other replicas' later keys. Start returns an
// error only when it cannot run at all: it was already started, or ctx has ended.
func (s *KeySet) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("signing keys: KeySet already started")
	}
	err := s.startup(ctx)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("signing keys: start: %w", ctxErr)
	}
	if err != nil {
		s.log.Warn("signing keys not ready at start-up; retrying in the background", "error", err, "in", s.retryBackoff)
	}
	if s.notifier != nil {
		go s.listen(ctx)
	}
	go s.loop(ctx, err != nil)
	return nil
}

// startup is Start's first reload and key insert, bounded by createTimeout so a
// hung store cannot hold up start-up; the loop repeats it until it succeeds. Both
// steps are idempotent, and the insert does not depend on the reload.
func (s *KeySet) startup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, createTimeout)
	defer cancel()
	return errors.Join(s.Reload(ctx), s.ensureKeyCreated(ctx))
}

// SigningKey returns the key to sign with now. Without a usable key it creates
// one (inserting it in the store first) and, with PublishDelay, waits until it
// is published; ctx bounds the wait.
func (s *KeySet) SigningKey(ctx context.Context) (*SigningKey, error) {
	now := s.now()
	if c := s.cur.Load(); c != nil && c.usable(now) {
		n := s.newest.Load()
		if n == c {
			if s.publishDelay > 0 && !now.Before(c.prepareAt) {
				s.startCreation(now, true)
			}
			return c.key, nil
		}
		if n == nil || now.Before(n.activeFrom) {
			return c.key, nil // the successor is not published yet
		}
	}
	return s.signingKeySlow(ctx)
}

func (s *KeySet) signingKeySlow(ctx context.Context) (*SigningKey, error) {
	for {
		s.mu.Lock()
		now := s.now()
		// Drop keys that can no longer sign; pick the newest published one.
		keep := s.own[:0]
		for _, k := range s.own {
			if now.Before(k.activeUntil) {
				keep = append(keep, k)
			}
		}
		clear(s.own[len(keep):])
		s.own = keep
		var best, pending *ownKey
		for _, k := range s.own {
			if k.usable(now) {
				best = k
			} else if pending == nil || k.activeFrom.Before(pending.activeFrom) {
				pending = k
			}
		}
		if best != nil {
			if s.cur.Swap(best) != best {
				s.log.Info("Using signing key " + best.key.KID)
			}
			s.mu.Unlock()
			return best.key, nil
		}
		if pending != nil {
			// Inserted but not yet published: wait for every replica to know it.
			wait := pending.activeFrom.Sub(now)
			s.mu.Unlock()
			if err := sleepCtx(ctx, wait); err != nil {
				return nil, fmt.Errorf("waiting for signing key %s to be published: %w", pending.key.KID, err)
			}
			continue
		}
		c := s.startCreationLocked(now)
		s.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a new signing key: %w", ctx.Err())
		}
		if c.err != nil {
			return nil, c.err
		}
	}
}

// ensureKeyCreated makes sure an own key exists (inserted), without waiting for
// its publish delay.
func (s *KeySet) ensureKeyCreated(ctx context.Context) error {
	s.mu.Lock()
	now := s.now()
	for _, k := range s.own {
		if now.Before(k.activeUntil) {
			s.mu.Unlock()
			return nil
		}
	}
	c := s.startCreationLocked(now)
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startCreation creates the next key in the background (ahead of rotation),
// unless one is already being created or a creation failed less than a second ago.
func (s *KeySet) startCreation(now time.Time, ahead bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ahead {
		if n := s.newest.Load(); n != nil && now.Before(n.prepareAt) {
			return // someone already created the successor
		}
		if s.creating == nil && !s.lastFail.IsZero() && now.Sub(s.lastFail) < time.Second {
			return
		}
	}
	s.startCreationLocked(now)
}

// startCreationLocked returns the in-flight creation, starting one if needed.
// s.mu must be held.
func (s *KeySet) startCreationLocked(now time.Time) *keyCreation {
	if s.creating != nil {
		return s.creating
	}
	c := &keyCreation{done: make(chan struct{})}
	s.creating = c
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
		defer cancel()
		k, err := s.createKey(ctx)
		s.mu.Lock()
		if err != nil {
			s.lastFail = s.now()
		} else {
			s.own = append(s.own, k)
			s.newest.Store(k)
		}
		c.err = err
		s.creating = nil
		s.mu.Unlock()
		close(c.done)
	}()
	return c
}

// createKey generates a key, inserts its public JWK in the store (before it is
// ever used), lists it locally and notifies the other processes.
func (s *KeySet) createKey(ctx context.Context) (*ownKey, error) {
	sk, jwk, err := generateKey(s.rand)
	if err != nil {
		return nil, err
	}
	created := s.now()
	s.log.Info("Created new signing key " + sk.KID)
	expires := created.Add(s.listDuration)
	if err := s.store.AddKey(ctx, StoredKey{KID: sk.KID, JWK: jwk, CreatedAt: created, ExpiresAt: expires}); err != nil {
		err = fmt.Errorf("failed to generate new signing key: store public key %s: %w", sk.KID, err)
		s.log.Error(err.Error())
		return nil, err
	}
	s.listMu.Lock()
	s.ownListed[sk.KID] = listedKey{kid: sk.KID, jwk: jwk, pub: sk.Public(), createdAt: created, expiresAt: expires}
	s.rebuildLocked(s.now())
	s.listMu.Unlock()
	if s.notifier != nil {
		if err := s.notifier.Notify(ctx); err != nil {
			// Other replicas still pick the key up by polling within PublishDelay.
			s.log.Warn("failed to notify other processes of a new signing key", "kid", sk.KID, "error", err)
		}
	}
	k := &ownKey{key: sk, createdAt: created}
	k.activeFrom = created.Add(s.publishDelay)
	k.activeUntil = k.activeFrom.Add(s.keyDuration)
	// Create the successor early enough that it is published before this key
	// stops signing: PublishDelay plus the same again as margin for slow inserts.
	k.prepareAt = k.activeUntil.Add(-2 * s.publishDelay)
	if k.prepareAt.Before(k.activeFrom) {
		k.prepareAt = k.activeFrom
	}
	return k, nil
}

// PublicKeys returns the listed keys from memory. The first call on a KeySet that
// was not started loads the store once; keys whose listing expired are dropped
// (and pruned from the store in the background) the first time they are seen
// expired.
func (s *KeySet) PublicKeys(ctx context.Context) (*PublicKeySet, error) {
	p := s.snap.Load()
	if p == nil {
		if err := s.Reload(ctx); err != nil {
			return nil, err
		}
		p = s.snap.Load()
	}
	if !p.nextExpiry.IsZero() {
		if now := s.now(); !now.Before(p.nextExpiry) {
			s.listMu.Lock()
			if p = s.snap.Load(); !p.nextExpiry.IsZero() && !now.Before(p.nextExpiry) {
				p = s.rebuildLocked(now)
			}
			s.listMu.Unlock()
		}
	}
	return p, nil
}

// JWKS returns the precomputed {"keys":[...]} document (no store read).
func (s *KeySet) JWKS(ctx context.Context) ([]byte, error) {
	p, err := s.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	return p.jwks, nil
}

// Reload reads the key list from the store and replaces the in-memory list.
// Concurrent calls share one store read.
func (s *KeySet) Reload(ctx context.Context) error {
	_, err, _ := s.loads.Do("reload", func() (any, error) {
		keys, err := s.store.ListKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		s.listMu.Lock()
		defer s.listMu.Unlock()
		now := s.now()
		stored := make([]listedKey, 0, len(keys))
		seen := make(map[string]time.Time, len(keys))
		for _, k := range keys {
			lk, ok := s.toListed(k, now)
			if !ok {
				continue
			}
			seen[k.KID] = s.firstSeen[k.KID]
			stored = append(stored, lk)
		}
		s.firstSeen = seen
		s.stored = stored
		s.rebuildLocked(now)
		s.lastReload.Store(time.Now().UnixNano())
		return nil, nil
	})
	return err
}

// toListed converts a store row; s.listMu must be held.
func (s *KeySet) toListed(k StoredKey, now time.Time) (listedKey, bool) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, k.JWK); err != nil || k.KID == "" {
		s.warnBadKey(k.KID, "stored key is not valid JSON; not listed", err)
		return listedKey{}, false
	}
	lk := listedKey{kid: k.KID, jwk: buf.Bytes(), createdAt: k.CreatedAt, expiresAt: k.ExpiresAt}
	pub, err := parseECJWK(lk.jwk)
	switch {
	case err == nil:
		lk.pub = pub
	case errors.Is(err, errUnsupportedKey):
		// Listed (another process may verify with it), but we only verify ES256.
	default:
		s.warnBadKey(k.KID, "stored key is not a valid JWK; not listed", err)
		return listedKey{}, false
	}
	if lk.expiresAt.IsZero() {
		base := k.CreatedAt
		if base.IsZero() {
			// No timestamp at all: count from when this process first saw it.
			if base = s.firstSeen[k.KID]; base.IsZero() {
				base = now
				s.firstSeen[k.KID] = now
			}
		}
		lk.expiresAt = base.Add(s.listDuration)
	}
	return lk, true
}

func (s *KeySet) warnBadKey(kid, msg string, err error) {
	if s.badKeys[kid] {
		return
	}
	if len(s.badKeys) > 1000 {
		clear(s.badKeys)
	}
	s.badKeys[kid] = true
	s.log.Warn(msg, "kid", kid, "error", err)
}

// rebuildLocked rebuilds the snapshot from the stored and own keys, drops expired
// ones and prunes them from the store asynchronously. s.listMu must be held.
func (s *KeySet) rebuildLocked(now time.Time) *PublicKeySet {
	all := make([]listedKey, 0, len(s.stored)+len(s.ownListed))
	all = append(all, s.stored...)
	for kid, k := range s.ownListed {
		dup := false
		for _, st := range s.stored {
			if st.kid == kid {
				dup = true
				break
			}
		}
		if !dup {
			all = append(all, k)
		}
	}
	p, expired := buildPublicKeySet(all, now, s.version+1)
	if old := s.snap.Load(); old != nil && bytes.Equal(old.jwks, p.jwks) && old.nextExpiry.Equal(p.nextExpiry) {
		p = old // unchanged: keep the old snapshot and version
	} else {
		s.version++
		s.snap.Store(p)
	}
	if len(expired) > 0 {
		gone := make(map[string]bool, len(expired))
		for _, kid := range expired {
			gone[kid] = true
			delete(s.ownListed, kid)
		}
		kept := s.stored[:0]
		for _, k := range s.stored {
			if !gone[k.kid] {
				kept = append(kept, k)
			}
		}
		s.stored = kept
		s.prune(expired)
	}
	return p
}

// prune deletes expired keys from the store in the background, as Backstage's
// listPublicKeys does; duplicate removals by several replicas are harmless.
func (s *KeySet) prune(kids []string) {
	s.log.Info("Removing expired signing keys, '" + strings.Join(kids, "', '") + "'")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
		defer cancel()
		if err := s.store.RemoveKeys(ctx, kids); err != nil {
			s.log.Error("Failed to remove expired keys", "error", err)
		}
	}()
}

// RefreshUnknownKID reloads the store when a token names a kid that is not
// listed, at most once per unknownKIDReloadInterval, in case a replica's key was
// missed. It reports whether it reloaded.
func (s *KeySet) RefreshUnknownKID(ctx context.Context) bool {
	if time.Since(time.Unix(0, s.lastReload.Load())) < unknownKIDReloadInterval {
		return false
	}
	if err := s.Reload(ctx); err != nil {
		s.log.Warn("reloading signing keys for an unknown kid failed", "error", err)
		return false
	}
	return true
}

// listen starts the store's ChangeNotifier, retrying with backoff until it starts.
// Once started it keeps itself connected (ChangeNotifier's contract), so a nil return
// ends this loop: calling Listen again would open another listener.
func (s *KeySet) listen(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.notifier.Listen(ctx, func() {
			select {
			case s.changed <- struct{}{}:
			default:
			}
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		s.log.Warn("cannot listen for signing key changes; retrying", "error", err, "in", backoff)
		if sleepCtx(ctx, backoff) != nil {
			return
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// loop reloads on poll ticks and notifications, retries a failed start-up (retry)
// with backoff, and creates the next key ahead of rotation when keys have a publish
// delay.
func (s *KeySet) loop(ctx context.Context, retry bool) {
	var tick <-chan time.Time
	if s.pollInterval > 0 {
		t := time.NewTicker(s.pollInterval)
		defer t.Stop()
		tick = t.C
	}
	var retryC <-chan time.Time
	backoff := s.retryBackoff
	if retry {
		retryC = time.After(backoff)
	}
	for {
		var prep <-chan time.Time
		var timer *time.Timer
		if s.publishDelay > 0 {
			if n := s.newest.Load(); n != nil {
				now := s.now()
				wait := n.prepareAt.Sub(now)
				if wait <= 0 {
					// Due (or a creation is in flight or failing): start it now and
					// look again shortly.
					s.startCreation(now, true)
					wait = time.Second
				}
				timer = time.NewTimer(wait)
				prep = timer.C
			}
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-tick:
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("polling signing keys failed", "error", err)
			}
		case <-s.changed:
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("reloading signing keys after a change notification failed", "error", err)
			}
		case <-retryC:
			if err := s.startup(ctx); err != nil {
				if ctx.Err() == nil {
					backoff = min(2*backoff, maxRetryBackoff)
					s.log.Warn("signing keys still not ready; retrying", "error", err, "in", backoff)
					retryC = time.After(backoff)
				}
			} else {
				s.log.Info("signing keys ready after a failed start-up")
				retryC = nil
			}
		case <-prep:
			// Re-evaluated at the top of the loop.
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
