package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"hash/maphash"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// The Issuer's user_info caches. Writes: the claims of every issued token are
// upserted, unless this process wrote exactly these bytes for the user within
// DefaultUserInfoSkipTTL (a refresh that changes nothing writes nothing). Reads
// (/v1/userinfo): served from memory for UserInfoTTL, then re-read so other
// replicas' writes are seen.

type writtenInfo struct {
	data []byte
	at   time.Time
}

type cachedInfo struct {
	data json.RawMessage
	at   time.Time
}

var userInfoSkip = map[string]bool{"sub": true, "ent": true}

// recordUserInfo upserts {"claims":{sub, ent, ...extra}} unless this process
// already wrote exactly these bytes for this user recently.
func (is *Issuer) recordUserInfo(ctx context.Context, sub string, ent []string, extra map[string]any, now time.Time) error {
	b := make([]byte, 0, 64+len(sub)+len(ent)*32)
	b = append(b, `{"claims":{"sub":`...)
	b = jsrules.AppendString(b, sub)
	b = append(b, `,"ent":`...)
	b, _ = jsrules.AppendValue(b, ent)
	if len(extra) > 0 {
		b = append(b, ',')
		var err error
		if b, err = appendExtra(b, extra, userInfoSkip); err != nil {
			return err
		}
		b = b[:len(b)-1] // trailing comma
	}
	b = append(b, `}}`...)

	mu := &is.writeLocks[maphash.String(is.lockSeed, sub)%uint64(len(is.writeLocks))]
	mu.Lock()
	defer mu.Unlock()
	if w, ok := is.lastWritten.Get(sub); ok && bytes.Equal(w.data, b) && now.Sub(w.at) < DefaultUserInfoSkipTTL {
		return nil
	}
	if err := is.store.UpsertUserInfo(ctx, sub, b, now.UTC()); err != nil {
		return fmt.Errorf("store user info for %s: %w", sub, err)
	}
	is.lastWritten.Add(sub, writtenInfo{data: b, at: now})
	is.readCache.Add(sub, cachedInfo{data: b, at: now})
	return nil
}

// UserInfo returns the stored {"claims":{...}} JSON for the user, from a cache
// refreshed from the store after UserInfoTTL; ErrNotFound when there is none.
// The returned bytes are shared: do not modify them.
func (is *Issuer) UserInfo(ctx context.Context, sub string) (json.RawMessage, error) {
	now := is.now()
	if c, ok := is.readCache.Get(sub); ok && now.Sub(c.at) < is.userInfoTTL {
		return c.data, nil
	}
	v, err, _ := is.readGroup.Do(sub, func() (any, error) {
		data, err := is.store.GetUserInfo(ctx, sub)
		if err != nil {
			return nil, err
		}
		is.readCache.Add(sub, cachedInfo{data: data, at: is.now()})
		return data, nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		// The store did not answer (a database restart, a cut connection): the row this
		// process read last, however old, is a better answer than none, and it was true
		// when read. Without one, a 503 tells the caller to retry, not a 500.
		if c, ok := is.readCache.Peek(sub); ok {
			return c.data, nil
		}
		return nil, &backstageerr.Error{Name: backstageerr.NameServiceUnavailable,
			Message: "User info is temporarily unavailable, please try again",
			Cause:   fmt.Errorf("read user info for %s: %w", sub, err)}
	}
	return v.(json.RawMessage), nil
}

// memoryUserInfo is the UserInfoStore used when none is configured: a bounded
// in-process LRU (single replica only, like Backstage's memory stores).
type memoryUserInfo struct {
	c *lru.Cache[string, json.RawMessage]
}

var _ UserInfoStore = (*memoryUserInfo)(nil)

func newMemoryUserInfo(size int) *memoryUserInfo {
	c, _ := lru.New[string, json.RawMessage](size)
	return &memoryUserInfo{c: c}
}

func (m *memoryUserInfo) UpsertUserInfo(_ context.Context, ref string, info json.RawMessage, _ time.Time) error {
	m.c.Add(ref, info)
	return nil
}

func (m *memoryUserInfo) GetUserInfo(_ context.Context, ref string) (json.RawMessage, error) {
	if v, ok := m.c.Get(ref); ok {
		return v, nil
	}
	return nil, ErrNotFound
}

// HasCachedUserInfo reports whether UserInfo would answer sub from memory, without
// reading the store (rate limits count only requests that do read it).
func (is *Issuer) HasCachedUserInfo(sub string) bool {
	c, ok := is.readCache.Peek(sub)
	return ok && is.now().Sub(c.at) < is.userInfoTTL
}
