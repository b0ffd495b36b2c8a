package localcatalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Start watches the directories of every catalog file (directories rather than
// files, so editors that save by rename are seen) and reloads, debounced, when a
// catalog file changes, appears or disappears. It returns once the watcher runs; the
// watcher stops when ctx is done. A reload that cannot read or parse a file keeps that
// file's last good content and logs the error.
func (c *Catalog) Start(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("local catalog: Start called twice")
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		c.started.Store(false)
		return fmt.Errorf("local catalog: cannot watch the catalog files: %w", err)
	}
	watched := map[string]bool{}
	c.watchDirs(w, watched)
	go c.watchLoop(ctx, w, watched)
	return nil
}

// watchDirs adds the directories of the current snapshot's files and pattern roots.
func (c *Catalog) watchDirs(w *fsnotify.Watcher, watched map[string]bool) {
	s := c.snap.Load()
	dirs := map[string]bool{}
	for f := range s.files {
		dirs[filepath.Dir(f)] = true
	}
	for _, mm := range s.patterns {
		for _, root := range walkRoots(mm) {
			dirs[root] = true
		}
	}
	for d := range dirs {
		// A directory that does not exist yet is watched through its nearest existing
		// ancestor; its creation triggers a reload, which then watches it.
		for {
			if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
				break
			}
			d = filepath.Dir(d)
		}
		if watched[d] {
			continue
		}
		if err := w.Add(d); err != nil {
			c.logger.Warn("local catalog: cannot watch directory; changes there need a restart", "dir", d, "err", err)
			continue
		}
		watched[d] = true
	}
}

// relevant reports whether a file event concerns the catalog.
func (c *Catalog) relevant(name string) bool {
	s := c.snap.Load()
	if s.files[name] {
		return true
	}
	prefix := name + string(filepath.Separator)
	for f := range s.files {
		if strings.HasPrefix(f, prefix) { // a directory on the way to a catalog file
			return true
		}
	}
	for _, mm := range s.patterns {
		if mm.Match(filepath.ToSlash(name)) {
			return true
		}
	}
	return false
}

func (c *Catalog) watchLoop(ctx context.Context, w *fsnotify.Watcher, watched map[string]bool) {
	defer w.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod || !c.relevant(filepath.Clean(ev.Name)) {
				continue
			}
			timer.Reset(c.debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			c.logger.Warn("local catalog: file watcher error", "err", err)
		case <-timer.C:
			c.Reload()
			c.watchDirs(w, watched)
		}
	}
}
