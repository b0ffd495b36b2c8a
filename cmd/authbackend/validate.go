package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// validate is `authbackend validate [--config FILE]...`: it loads and validates the
// configuration and builds every provider and sign-in resolver from it, contacting no
// IdP, database or catalog server (a local catalog's files are read), prints every
// problem with its path and file, or "configuration is valid" and a summary, and
// exits non-zero on any problem. Operators run it in CI before deploying.
func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("authbackend validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var configs stringList
	fs.Var(&configs, "config", "config file (repeatable; later files override earlier ones)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	reg, err := providers.NewRegistry(modules()...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	pl, err := prepare(configs, reg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	quiet := slog.New(slog.DiscardHandler)
	// The catalog's own warnings (entities skipped, missing files) go to stderr.
	catalogLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	catalog, _, err := buildCatalog(pl.cfg, &lateTokenSource{}, catalogLog, nil)
	if err == nil {
		_, err = pl.decoded.Build(providers.BuildDeps{Logger: quiet, DevelopmentMode: pl.cfg.DevelopmentMode, AuthBaseURL: pl.cfg.AuthBaseURL(), Catalog: catalog})
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, w := range pl.warnings {
		fmt.Fprintln(stderr, "warning: "+w.String())
	}
	fmt.Fprintln(stdout, "configuration is valid: "+summary(pl))
	return 0
}

// summary is one line: providers per environment, resolvers, key store, catalog.
func summary(pl *plan) string {
	cfg := pl.cfg
	var provs, res []string
	seen := map[string]bool{}
	for _, dp := range pl.decoded.Providers {
		var envs []string
		for _, e := range dp.Envs {
			if e.Name != "" {
				envs = append(envs, e.Name)
			}
			if e.SignIn != nil {
				for _, n := range e.SignIn.Names() {
					if !seen[n] {
						seen[n] = true
						res = append(res, n)
					}
				}
			}
		}
		p := dp.Module.ID
		if len(envs) > 0 {
			p += " (" + strings.Join(envs, ", ") + ")"
		}
		provs = append(provs, p)
	}
	sort.Strings(res)
	or := func(list []string) string {
		if len(list) == 0 {
			return "none"
		}
		return strings.Join(list, ", ")
	}
	store := cfg.Auth.KeyStore.Provider
	if store == "database" {
		store += " (" + cfg.Backend.Database.Client + ")"
	}
	return fmt.Sprintf("providers: %s; resolvers: %s; key store: %s; catalog: %s",
		or(provs), or(res), store, catalogMode(cfg))
}
