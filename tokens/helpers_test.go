package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/fakeclock"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New() }

// newTestKeySet returns a KeySet over a fresh memory store on the fake clock.
func newTestKeySet(t testing.TB, clock *fakeClock) *signingkeys.KeySet {
	t.Helper()
	return signingkeys.NewKeySet(signingkeys.KeySetOptions{Store: signingkeys.NewMemoryKeyStore(), KeyDuration: time.Hour, Now: clock.Now})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// decodedToken is a compact JWS split into its decoded parts.
type decodedToken struct {
	header, payload []byte
	h64, p64, s64   string
}

func decodeToken(t *testing.T, tok string) decodedToken {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	return decodedToken{header: h, payload: p, h64: parts[0], p64: parts[1], s64: parts[2]}
}

// rebuildLimitedToken rebuilds the limited user token from a full token the way
// Backstage's verifiers do: parse header and payload, re-serialise {typ,alg,kid}
// and {sub,iat,exp} with JSON.stringify, append uip.
func rebuildLimitedToken(t *testing.T, full string) string {
	t.Helper()
	d := decodeToken(t, full)
	var h struct{ Alg, Kid string }
	var p struct {
		Sub      string
		Iat, Exp json.Number
		Uip      string
	}
	if err := json.Unmarshal(d.header, &h); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(d.payload)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Uip == "" {
		t.Fatal("token has no uip")
	}
	hb := []byte(`{"typ":"vnd.backstage.limited-user","alg":`)
	hb = jsrules.AppendString(hb, h.Alg)
	if h.Kid != "" {
		hb = append(hb, `,"kid":`...)
		hb = jsrules.AppendString(hb, h.Kid)
	}
	hb = append(hb, '}')
	pb := []byte(`{"sub":`)
	pb = jsrules.AppendString(pb, p.Sub)
	pb = append(pb, `,"iat":`...)
	pb = append(pb, p.Iat.String()...)
	pb = append(pb, `,"exp":`...)
	pb = append(pb, p.Exp.String()...)
	pb = append(pb, '}')
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb) + "." + p.Uip
}

// countingUserInfo counts writes.
type countingUserInfo struct {
	mu     sync.Mutex
	rows   map[string]json.RawMessage
	writes int
	reads  int
}

func newCountingUserInfo() *countingUserInfo {
	return &countingUserInfo{rows: make(map[string]json.RawMessage)}
}

func (c *countingUserInfo) UpsertUserInfo(_ context.Context, ref string, info json.RawMessage, _ time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	c.rows[ref] = append(json.RawMessage(nil), info...)
	return nil
}

func (c *countingUserInfo) GetUserInfo(_ context.Context, ref string) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	r, ok := c.rows[ref]
	if !ok {
		return nil, ErrNotFound
	}
	return r, nil
}

func (c *countingUserInfo) counts() (writes, reads int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.reads
}

// errClass is the Backstage class of an error ("" for unclassed errors).
func errClass(err error) string {
	var be *backstageerr.Error
	if errors.As(err, &be) {
		return be.Name
	}
	return ""
}

// failingUserInfo is a store whose reads fail while down is set.
type failingUserInfo struct {
	*countingUserInfo
	down bool
}

func (f *failingUserInfo) GetUserInfo(ctx context.Context, ref string) (json.RawMessage, error) {
	if f.down {
		return nil, errors.New("connection refused")
	}
	return f.countingUserInfo.GetUserInfo(ctx, ref)
}
