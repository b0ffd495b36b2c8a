package localcatalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

const (
	maxFileSize  = 16 << 20 // a catalog file larger than this is refused
	maxDepth     = 32       // nested Location entities
	maxFiles     = 10000
	annoLocation = "backstage.io/managed-by-location"
	annoOrigin   = "backstage.io/managed-by-origin-location"
)

// Backstage's default entity validators (KubernetesValidatorFunctions).
var (
	reObjectName = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	reNamespace  = regexp.MustCompile(`^[a-z0-9]+(?:-+[a-z0-9]+)*$`)
	reKind       = regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`)
)

// document is one parsed YAML document of a file.
type document struct {
	index int // 1-based
	line  int
	value any
}

// candidate is a valid entity read from a file, before de-duplication and relations.
type candidate struct {
	raw      map[string]any
	ref      resolvers.EntityRef
	refStr   string
	file     string
	doc      document
	origin   locationRef
	memberOf []string // User: canonical targets of spec.memberOf
	members  []string // Group: canonical refs of spec.members
}

type loader struct {
	c        *Catalog
	files    map[string]bool
	patterns []*jsrules.Minimatch // file targets that are patterns (watched through their roots)
	read     map[string]bool
	newGood  map[string][]document
	problems []Problem
	cands    []*candidate
}

func (c *Catalog) load() *snapshot {
	ld := &loader{c: c, files: map[string]bool{}, read: map[string]bool{}, newGood: map[string][]document{}}
	for i, l := range c.roots {
		if l.Type != "file" {
			ld.problem(Problem{Message: fmt.Sprintf(
				"catalog.locations[%d]: location type %q (target %s) is not supported by the local catalog and was skipped; only type file is read here (use authbackend.catalog.mode: remote to sign in against a running Backstage catalog)",
				i, l.Type, l.Target)})
			continue
		}
		if l.Target == "" {
			ld.problem(Problem{Message: fmt.Sprintf("catalog.locations[%d]: missing target", i)})
			continue
		}
		target := resolveFileTarget("file", l.Target, c.workDir)
		ld.readTarget(target, locationRef{Type: "file", Target: target}, nil)
	}
	c.lastGood = ld.newGood
	return ld.build()
}

func (ld *loader) problem(p Problem) { ld.problems = append(ld.problems, p) }

// readTarget reads one file target (a path or a minimatch pattern).
func (ld *loader) readTarget(target string, origin locationRef, stack []string) {
	mm, err := compileFileTarget(target)
	if err != nil {
		ld.problem(Problem{File: target, Message: fmt.Sprintf("invalid location target: %v", err)})
		return
	}
	if !isFileTargetPattern(mm) {
		// A plain path, possibly spelled with escapes or one-character classes.
		ld.readFile(filepath.FromSlash(mm.LiteralPaths()[0]), origin, stack)
		return
	}
	ld.patterns = append(ld.patterns, mm)
	files, err := matchFiles(mm)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		ld.problem(Problem{File: target, Message: fmt.Sprintf("cannot read the files of this target: %v", err)})
	}
	if len(files) == 0 {
		ld.problem(Problem{File: target, Message: "no file matches this location target"})
	}
	for _, f := range files {
		ld.readFile(f, origin, stack)
	}
}

func (ld *loader) readFile(path string, origin locationRef, stack []string) {
	ld.files[path] = true
	for _, s := range stack {
		if s == path {
			ld.problem(Problem{File: stack[len(stack)-1], Message: fmt.Sprintf("Location cycle: %s is already being read (%s); not following it again", path, strings.Join(append(stack, path), " -> "))})
			return
		}
	}
	if ld.read[path] {
		return // referenced from two places: read once
	}
	if len(stack) >= maxDepth || len(ld.read) >= maxFiles {
		ld.problem(Problem{File: path, Message: fmt.Sprintf("not read: more than %d nested locations or %d files", maxDepth, maxFiles)})
		return
	}
	ld.read[path] = true
	docs, err := readDocuments(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			ld.problem(Problem{File: path, Message: fmt.Sprintf("file %s does not exist", path)})
			return
		}
		if prev, ok := ld.c.lastGood[path]; ok {
			ld.problem(Problem{File: path, Message: fmt.Sprintf("%v; keeping the last version that could be read", err)})
			docs = prev
		} else {
			ld.problem(Problem{File: path, Message: err.Error()})
			return
		}
	}
	ld.newGood[path] = docs

	var valid []*candidate
	var locations []*candidate
	for _, d := range docs {
		cand, p := ld.validate(path, d, origin)
		if p != nil {
			ld.problem(*p)
			continue
		}
		valid = append(valid, cand)
	}
	// Backstage rejects everything a location produced when one entity is not of an
	// allowed kind for its origin location.
	var denied []string
	deniedKinds := map[string]bool{}
	for _, cand := range valid {
		if !allowed(ld.c.rules, cand.ref.Kind, origin) {
			denied = append(denied, cand.refStr)
			deniedKinds[cand.ref.Kind] = true
		}
	}
	if len(denied) > 0 {
		kinds := make([]string, 0, len(deniedKinds))
		for k := range deniedKinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		ld.problem(Problem{File: path, Message: fmt.Sprintf(
			"no entity of this file was loaded: %s at file:%s, originated at %s, is not of an allowed kind for that location. Backstage's default catalog.rules allow only Component, API and Location; add a rule such as `catalog.rules: [{allow: [%s]}]` (or a per-location `rules` entry)",
			strings.Join(denied, ", "), path, origin, strings.Join(append(kinds, "Location"), ", "))})
		return
	}
	for _, cand := range valid {
		switch strings.ToLower(cand.ref.Kind) {
		case "user", "group":
			ld.cands = append(ld.cands, cand)
		case "location":
			locations = append(locations, cand)
		}
	}
	for _, l := range locations {
		ld.followLocation(l, path, origin, append(stack[:len(stack):len(stack)], path))
	}
}

// followLocation reads the targets of a Location entity, relative to its file.
func (ld *loader) followLocation(l *candidate, path string, origin locationRef, stack []string) {
	spec, _ := l.raw["spec"].(map[string]any)
	typ, _ := spec["type"].(string)
	if typ == "" {
		typ = "file" // inherited from the location that read this entity
	}
	var targets []string
	if t, ok := spec["target"].(string); ok && t != "" {
		targets = append(targets, t)
	}
	if ts, ok := spec["targets"].([]any); ok {
		for _, t := range ts {
			if s, ok := t.(string); ok && s != "" {
				targets = append(targets, s)
			}
		}
	}
	for _, t := range targets {
		if typ != "file" {
			ld.problem(Problem{File: path, Document: l.doc.index, Line: l.doc.line, Entity: l.refStr, Message: fmt.Sprintf(
				"location target %s of type %q is not supported by the local catalog and was skipped (only type file is read)", t, typ)})
			continue
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(path), t)
		}
		ld.readTarget(filepath.Clean(t), origin, stack)
	}
}

// readDocuments parses every YAML document of a file. A syntax error fails the file.
func readDocuments(path string) ([]document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes", maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []document
	for i := 1; ; i++ {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, fmt.Errorf("invalid YAML in document %d: %w", i, err)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid YAML in document %d: %w", i, err)
		}
		line := n.Line
		if len(n.Content) > 0 {
			line = n.Content[0].Line
		}
		docs = append(docs, document{index: i, line: line, value: config.Normalize(v)})
	}
}

// validate checks one document against Backstage's envelope rules and the parts of
// the User, Group and Location schemas sign-in depends on.
func (ld *loader) validate(path string, d document, origin locationRef) (*candidate, *Problem) {
	bad := func(ref, format string, args ...any) (*candidate, *Problem) {
		return nil, &Problem{File: path, Document: d.index, Line: d.line, Entity: ref, Message: "invalid entity: " + fmt.Sprintf(format, args...)}
	}
	if d.value == nil {
		return bad("", "empty document")
	}
	raw, ok := d.value.(map[string]any)
	if !ok {
		return bad("", "expected an object at the root, got %s", describe(d.value))
	}
	kind, _ := raw["kind"].(string)
	if !reKind.MatchString(kind) || len(kind) > 63 {
		return bad("", "kind %s is not valid (a word such as User or Group)", describe(raw["kind"]))
	}
	meta, ok := raw["metadata"].(map[string]any)
	if !ok {
		return bad("", "metadata must be an object, got %s", describe(raw["metadata"]))
	}
	name, _ := meta["name"].(string)
	if name == "" {
		return bad("", "%s entity has no metadata.name", kind)
	}
	if len(name) > 63 || !reObjectName.MatchString(name) {
		return bad("", "metadata.name %q is not valid (1-63 letters, digits and [-_.], starting and ending with a letter or digit)", name)
	}
	ns := resolvers.DefaultNamespace
	if v, present := meta["namespace"]; present && v != nil {
		s, _ := v.(string)
		if len(s) > 63 || !reNamespace.MatchString(s) {
			return bad("", "metadata.namespace %s is not valid (lower-case letters, digits and -)", describe(v))
		}
		ns = s
	}
	ref := resolvers.EntityRef{Kind: kind, Namespace: ns, Name: name}
	refStr := ref.String()
	apiVersion, _ := raw["apiVersion"].(string)
	if apiVersion == "" {
		return bad(refStr, "missing apiVersion")
	}
	if a, present := meta["annotations"]; present && a != nil {
		am, ok := a.(map[string]any)
		if !ok {
			return bad(refStr, "metadata.annotations must be an object, got %s", describe(a))
		}
		for k, v := range am {
			if _, ok := v.(string); !ok {
				return bad(refStr, "metadata.annotations.%s must be a string, got %s", k, describe(v))
			}
		}
	}
	cand := &candidate{raw: raw, ref: ref, refStr: refStr, file: path, doc: d, origin: origin}
	lk := strings.ToLower(kind)
	if lk != "user" && lk != "group" && lk != "location" {
		return cand, nil // other kinds only matter for catalog.rules
	}
	if apiVersion != "backstage.io/v1alpha1" && apiVersion != "backstage.io/v1beta1" {
		return bad(refStr, "apiVersion %q is not supported for kind %s (use backstage.io/v1alpha1)", apiVersion, kind)
	}
	spec, ok := raw["spec"].(map[string]any)
	if !ok {
		return bad(refStr, "spec must be an object, got %s", describe(raw["spec"]))
	}
	switch lk {
	case "user":
		if p, present := spec["profile"]; present && p != nil {
			pm, ok := p.(map[string]any)
			if !ok {
				return bad(refStr, "spec.profile must be an object, got %s", describe(p))
			}
			if e, present := pm["email"]; present && e != nil {
				if _, ok := e.(string); !ok {
					return bad(refStr, "spec.profile.email must be a string, got %s", describe(e))
				}
			}
		}
		refs, msg := refList(spec, "memberOf", "Group", ns)
		if msg != "" {
			return bad(refStr, "%s", msg)
		}
		cand.memberOf = refs
	case "group":
		if t, _ := spec["type"].(string); t == "" {
			return bad(refStr, "spec.type is required for a Group (e.g. team)")
		}
		if _, ok := spec["children"].([]any); !ok {
			return bad(refStr, "spec.children is required for a Group (use [] for none)")
		}
		refs, msg := refList(spec, "members", "User", ns)
		if msg != "" {
			return bad(refStr, "%s", msg)
		}
		cand.members = refs
	case "location":
		t, _ := spec["target"].(string)
		ts, isList := spec["targets"].([]any)
		if t == "" && len(ts) == 0 {
			return bad(refStr, "a Location needs spec.target or spec.targets")
		}
		if spec["targets"] != nil && !isList {
			return bad(refStr, "spec.targets must be a list of strings, got %s", describe(spec["targets"]))
		}
		for i, x := range ts {
			if s, ok := x.(string); !ok || s == "" {
				return bad(refStr, "spec.targets[%d] must be a non-empty string, got %s", i, describe(x))
			}
		}
	}
	return cand, nil
}

// refList parses a list of entity refs relative to a default kind and namespace.
func refList(spec map[string]any, key, defaultKind, ns string) ([]string, string) {
	v, present := spec[key]
	if !present || v == nil {
		return nil, ""
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Sprintf("spec.%s must be a list of entity refs, got %s", key, describe(v))
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Sprintf("spec.%s[%d] must be an entity ref string, got %s", key, i, describe(it))
		}
		r, err := resolvers.ParseEntityRef(s, defaultKind, ns)
		if err != nil {
			return nil, fmt.Sprintf("spec.%s[%d]: %v", key, i, err)
		}
		out = append(out, r.String())
	}
	return out, ""
}

func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(t)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	default:
		return fmt.Sprintf("%v", t)
	}
}

// build de-duplicates the candidates, adds relations and indexes the result.
func (ld *loader) build() *snapshot {
	s := &snapshot{byRef: map[string]*stored{}, index: map[string][]*stored{}, files: ld.files, patterns: ld.patterns}
	type entry struct {
		cand      *candidate
		relations map[resolvers.Relation]bool
	}
	byRef := map[string]*entry{}
	var order []*entry
	for _, c := range ld.cands {
		if prev, dup := byRef[c.refStr]; dup {
			ld.problem(Problem{File: c.file, Document: c.doc.index, Line: c.doc.line, Entity: c.refStr, Message: fmt.Sprintf(
				"duplicate entity: already defined in %s (document %d); this definition is ignored", prev.cand.file, prev.cand.doc.index)})
			continue
		}
		e := &entry{cand: c, relations: map[resolvers.Relation]bool{}}
		byRef[c.refStr] = e
		order = append(order, e)
	}
	add := func(source, typ, target string) {
		if e, ok := byRef[source]; ok {
			e.relations[resolvers.Relation{Type: typ, TargetRef: target}] = true
		}
	}
	for _, e := range order {
		for _, g := range e.cand.memberOf {
			add(e.cand.refStr, "memberOf", g)
			add(g, "hasMember", e.cand.refStr)
		}
		for _, m := range e.cand.members {
			add(m, "memberOf", e.cand.refStr)
			add(e.cand.refStr, "hasMember", m)
		}
	}
	for _, e := range order {
		st := &stored{entity: toEntity(e.cand, e.relations)}
		st.search = searchTable(e.cand.raw, st.entity)
		s.byRef[e.cand.refStr] = st
		if strings.EqualFold(e.cand.ref.Kind, "user") {
			s.users = append(s.users, st)
			for k, vs := range st.search {
				for _, v := range dedupeStrings(vs) {
					s.index[k+"\x00"+v] = append(s.index[k+"\x00"+v], st)
				}
			}
		} else {
			s.groups++
		}
	}
	s.problems = ld.problems
	return s
}

func toEntity(c *candidate, rels map[resolvers.Relation]bool) resolvers.Entity {
	meta := c.raw["metadata"].(map[string]any)
	annotations := map[string]string{}
	if am, ok := meta["annotations"].(map[string]any); ok {
		for k, v := range am {
			annotations[k], _ = v.(string)
		}
	}
	annotations[annoLocation] = "file:" + c.file
	annotations[annoOrigin] = c.origin.String()
	spec, _ := c.raw["spec"].(map[string]any)
	apiVersion, _ := c.raw["apiVersion"].(string)
	relations := make([]resolvers.Relation, 0, len(rels))
	for r := range rels {
		relations = append(relations, r)
	}
	sort.Slice(relations, func(i, j int) bool {
		if relations[i].Type != relations[j].Type {
			return relations[i].Type < relations[j].Type
		}
		return relations[i].TargetRef < relations[j].TargetRef
	})
	return resolvers.Entity{
		APIVersion: apiVersion,
		Kind:       c.ref.Kind,
		Metadata:   resolvers.EntityMetadata{Name: c.ref.Name, Namespace: c.ref.Namespace, Annotations: annotations},
		Spec:       spec,
		Relations:  relations,
	}
}

// searchTable flattens an entity like Backstage's buildEntitySearch: dotted
// lower-cased keys ("spec.profile.email", "metadata.annotations.<key>"), list items
// under their list's key, lower-cased values, plus relations.<type> = target.
func searchTable(raw map[string]any, e resolvers.Entity) map[string][]string {
	out := map[string][]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case nil:
		case map[string]any:
			for k, x := range t {
				key := strings.ToLower(k)
				if prefix != "" {
					key = prefix + "." + key
				}
				walk(key, x)
			}
		case []any:
			for _, x := range t {
				walk(prefix, x)
			}
		case string:
			out[prefix] = append(out[prefix], strings.ToLower(strings.TrimSpace(t)))
		default:
			out[prefix] = append(out[prefix], strings.ToLower(fmt.Sprint(t)))
		}
	}
	walk("", map[string]any{"apiVersion": raw["apiVersion"], "kind": raw["kind"], "spec": raw["spec"]})
	meta := map[string]any{}
	for k, v := range raw["metadata"].(map[string]any) {
		if k != "annotations" && k != "namespace" {
			meta[k] = v
		}
	}
	walk("metadata", meta)
	out["metadata.namespace"] = []string{strings.ToLower(e.Metadata.Namespace)}
	for k, v := range e.Metadata.Annotations {
		key := "metadata.annotations." + strings.ToLower(k)
		out[key] = append(out[key], strings.ToLower(v))
	}
	for _, r := range e.Relations {
		key := "relations." + strings.ToLower(r.Type)
		out[key] = append(out[key], strings.ToLower(r.TargetRef))
	}
	return out
}

func dedupeStrings(in []string) []string {
	if len(in) < 2 {
		return in
	}
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
