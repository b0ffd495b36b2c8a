// Package config loads Backstage's app-config for this auth server and owns its
// typed view.
//
// Loading follows @backstage/config-loader (BACKSTAGE_AUTH.md section 8.2):
//
//   - Sources, in increasing precedence: the --config files in order, or by default
//     app-config.yaml (required), app-config.<env>.yaml for each comma-separated
//     BACKSTAGE_ENV, app-config.local.yaml and app-config.<env>.local.yaml (missing
//     optional files are skipped); then APP_CONFIG_a_b_c environment overrides.
//   - Each file is decoded, then transformed on the decoded tree (never on raw text):
//     include directives ($file, $env, $include: path[#dot.path], relative to the
//     including file) and ${VAR}, ${VAR:-fallback} and $${...} substitution on every
//     string. A reference to an unset variable drops the key.
//   - Sources merge with koanf: objects deep-merge, arrays and scalars replace whole,
//     an explicit null hides the key.
//   - Every path remembers the file that last wrote it, so a Problem reads like
//     `auth.backstageTokenExpiration: invalid duration "banana" (app-config.yaml)`.
//
// Validation collects every problem instead of stopping at the first. Unknown keys are
// accepted (a shared app-config carries other plugins' keys); key syntax is checked in
// the sections this server reads. Load returns a Config or an error (*LoadError,
// listing every problem), never both.
//
// Sections other packages own (auth.providers.<id>, their signIn resolvers) are handed
// out as immutable Sections. Decode fills a typed struct from one by `config:"key"`
// tags, with Backstage's value rules (durations, string-or-list, lenient scalars) and
// returns its own Problems: wrong types, missing required keys, and unknown keys as
// warnings or, where a misspelling would switch a check off, errors. The caller
// gathers every section's problems into one report.
//
// Nothing here opens network connections; files are read only on behalf of the
// configuration (config files, $file, $include, static key existence checks).
package config
