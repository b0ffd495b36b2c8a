package localcatalog

import (
	"io/fs"
	"path/filepath"
	"sort"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// Backstage reads file targets with glob (FileReaderProcessor), which compiles them
// with these minimatch options, and matches catalog.rules location patterns with
// minimatch(target, pattern, {nocase: true, dot: true}) (DefaultCatalogRulesEnforcer).
var (
	fileTargetOptions  = jsrules.MinimatchOptions{WindowsPathsNoEscape: true, NoComment: true, NoNegate: true}
	rulePatternOptions = jsrules.MinimatchOptions{NoCase: true, Dot: true}
)

// compileFileTarget compiles a file target. glob resolves "." and ".." portions of a
// pattern before it walks (its optimizationLevel 2); cleaning the path does the same
// for the targets we walk.
func compileFileTarget(target string) (*jsrules.Minimatch, error) {
	return jsrules.CompileMinimatch(filepath.ToSlash(filepath.Clean(target)), fileTargetOptions)
}

// isFileTargetPattern reports whether target has to be matched against files (it
// has wildcards, or braces naming several paths) rather than read as a path.
func isFileTargetPattern(mm *jsrules.Minimatch) bool {
	return mm.HasMagic() || len(mm.LiteralPaths()) != 1
}

// walkRoots are the directories a walk for mm starts from: each row's leading
// literal directories.
func walkRoots(mm *jsrules.Minimatch) []string {
	var roots []string
	for _, p := range mm.LiteralPrefixes() {
		if p == "" {
			p = "."
		}
		roots = append(roots, filepath.FromSlash(p))
	}
	return roots
}

// maxTargetEntries bounds the directory walk of one file target pattern.
const maxTargetEntries = 100000

// matchFiles returns the regular files under mm's roots that mm matches, sorted.
func matchFiles(mm *jsrules.Minimatch) ([]string, error) {
	seenFile := map[string]bool{}
	var out []string
	var firstErr error
	seen := 0
	for _, root := range walkRoots(mm) {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root {
					return err
				}
				return nil // unreadable subdirectory: skip it
			}
			seen++
			if seen > maxTargetEntries {
				return fs.SkipAll
			}
			if d.Type().IsRegular() && !seenFile[p] && mm.Match(filepath.ToSlash(p)) {
				seenFile[p] = true
				out = append(out, p)
			}
			return nil
		})
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	sort.Strings(out)
	return out, firstErr
}
