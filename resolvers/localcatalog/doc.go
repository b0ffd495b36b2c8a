// Package localcatalog is a resolvers.Catalog read from catalog.locations files,
// for deployments without a running Backstage catalog. It mirrors what Backstage's
// catalog would ingest from the same files:
//
//   - only `type: file` locations are read (targets relative to the working
//     directory); other types such as `url` are skipped with a warning. A target may
//     be a minimatch pattern, compiled with the options glob gives minimatch for
//     Backstage's FileReaderProcessor and matched against the files under its literal
//     directories (internal/jsrules' minimatch; this package no longer has a glob
//     matcher of its own);
//   - multi-document YAML; Location entities are followed (spec.target/spec.targets
//     relative to the Location's file, cycles and depth guarded);
//   - catalog.rules are enforced against the origin location (location patterns with
//     minimatch {nocase, dot}, as DefaultCatalogRulesEnforcer), with Backstage's default
//     rule (Component, API, Location) when none are configured, so User and Group
//     need a rule; as in Backstage, a file containing a disallowed entity is rejected
//     as a whole, and the warning names the rule to add. Improvement: relative file
//     targets and patterns in rules are resolved against the working directory;
//   - entities are validated (kind, metadata.name/namespace, apiVersion, the User,
//     Group and Location fields sign-in relies on, entity refs); invalid or duplicate
//     entities are reported with file, line and document index, the rest loads;
//   - memberOf relations come from User.spec.memberOf (default kind Group) and
//     Group.spec.members (default kind User), in the entity's namespace;
//   - lookups match Backstage's flattened search keys case-insensitively.
//
// Start watches the files and reloads (debounced) on change; a file that fails to
// read or parse keeps its last good content.
package localcatalog
