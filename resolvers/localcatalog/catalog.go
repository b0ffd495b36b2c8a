package localcatalog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// DefaultDebounce is how long the watcher waits after the last file event before
// reloading, so that an editor's burst of writes causes one reload.
const DefaultDebounce = 250 * time.Millisecond

// Options configure a local catalog.
type Options struct {
	// Locations are catalog.locations; only type "file" is read (others are skipped
	// with a warning). Relative targets are resolved against WorkDir.
	Locations []config.CatalogLocation
	// Rules are catalog.rules. Empty means Backstage's default, which allows only
	// Component, API and Location, so User and Group need a rule.
	Rules []config.CatalogRule
	// WorkDir is the directory relative file targets are resolved against (Backstage
	// uses the process working directory); "" means os.Getwd().
	WorkDir string
	Logger  *slog.Logger
	// Debounce overrides DefaultDebounce.
	Debounce time.Duration
}

// Problem is one thing wrong with the catalog files, e.g. an invalid entity.
type Problem struct {
	File     string // absolute path ("" for a problem with a location entry itself)
	Document int    // 1-based YAML document index; 0 when about the whole file
	Line     int    // line of the document start, when known
	Entity   string // canonical entity ref, when known
	Message  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		if p.Document > 0 {
			fmt.Fprintf(&b, " (document %d)", p.Document)
		}
		b.WriteString(": ")
	}
	if p.Entity != "" {
		b.WriteString(p.Entity + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Catalog is the local catalog: User and Group entities read from catalog.locations
// files (following Location entities), kept in memory and reloaded when the files
// change. It is safe for concurrent use.
type Catalog struct {
	workDir  string
	logger   *slog.Logger
	debounce time.Duration
	roots    []config.CatalogLocation
	rules    []rule

	loadMu   sync.Mutex               // serialises loads
	lastGood map[string][]document    // per file, the last version that parsed (loadMu)
	snap     atomic.Pointer[snapshot] // what lookups read
	started  atomic.Bool
}

var _ resolvers.Catalog = (*Catalog)(nil)

// stored is one entity with its search index (Backstage's flattened, lower-cased
// key/value table that catalog filters match against).
type stored struct {
	entity resolvers.Entity
	search map[string][]string
}

type snapshot struct {
	users    []*stored
	index    map[string][]*stored // users by "key\x00value" of their search table
	byRef    map[string]*stored   // users and groups by canonical ref
	groups   int
	files    map[string]bool      // every file read or looked for (watched)
	patterns []*jsrules.Minimatch // absolute pattern targets (watched through their roots)
	problems []Problem
}

// New reads the locations once (so lookups work before Start) and returns the
// catalog. Problems are logged and available from Problems; they never fail New.
func New(opts Options) (*Catalog, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	wd := opts.WorkDir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("local catalog: cannot determine the working directory: %w", err)
		}
	}
	wd, err := filepath.Abs(wd)
	if err != nil {
		return nil, fmt.Errorf("local catalog: working directory %q: %w", opts.WorkDir, err)
	}
	c := &Catalog{
		workDir:  wd,
		logger:   logger,
		debounce: opts.Debounce,
		roots:    opts.Locations,
		lastGood: map[string][]document{},
	}
	if c.debounce <= 0 {
		c.debounce = DefaultDebounce
	}
	rules, problems := compileRules(opts.Rules, opts.Locations, wd)
	c.rules = rules
	for _, p := range problems {
		logger.Warn("local catalog: invalid catalog rule", "problem", p)
	}
	c.Reload()
	return c, nil
}

// Reload re-reads every location now and returns the problems found. A file that
// cannot be read or parsed keeps its last good content.
func (c *Catalog) Reload() []Problem {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	s := c.load()
	c.snap.Store(s)
	for _, p := range s.problems {
		c.logger.Warn("local catalog: "+p.String(), "file", p.File)
	}
	c.logger.Info("local catalog loaded", "users", len(s.users), "groups", s.groups, "files", len(s.files), "problems", len(s.problems))
	return s.problems
}

// Problems returns the problems of the last load.
func (c *Catalog) Problems() []Problem {
	return append([]Problem(nil), c.snap.Load().problems...)
}

// FindUsers implements resolvers.Catalog: the User entities whose search table has
// every key=value of filter (keys and values compared case-insensitively, as the
// catalog does). Returned entities share maps with the catalog: do not modify them.
func (c *Catalog) FindUsers(ctx context.Context, filter map[string]string) ([]resolvers.Entity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := c.snap.Load()
	lowered := make(map[string]string, len(filter))
	for k, v := range filter {
		lowered[strings.ToLower(k)] = strings.ToLower(strings.TrimSpace(v))
	}
	// Candidates come from the index of the most selective pair; the rest is checked.
	candidates := s.users
	for k, v := range lowered {
		if idx := s.index[k+"\x00"+v]; len(idx) < len(candidates) {
			candidates = idx
		}
	}
	var out []resolvers.Entity
	for _, u := range candidates {
		if matches(u.search, lowered) {
			out = append(out, u.entity)
		}
	}
	return out, nil
}

// GetEntityByRef implements resolvers.Catalog (Users and Groups only).
func (c *Catalog) GetEntityByRef(ctx context.Context, ref resolvers.EntityRef) (*resolvers.Entity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if st, ok := c.snap.Load().byRef[ref.String()]; ok {
		e := st.entity
		return &e, nil
	}
	return nil, backstageerr.NotFound("No entity named '%s' found", ref.String())
}

// matches reports whether search has every pair of the lower-cased filter.
func matches(search map[string][]string, filter map[string]string) bool {
	for k, want := range filter {
		found := false
		for _, v := range search[k] {
			if v == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
