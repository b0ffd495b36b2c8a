// Package celexpr is the sandbox in which sign-in expressions run: the CEL
// (github.com/google/cel-go) environments of the `expression` resolver and of the
// sign-in policy, their typed input, compilation with a result-type check, and
// evaluation under a cost limit and a time limit.
//
// What an expression can see is only its input (provider, profile, claims and, for
// policy rules, identity) and what it can call is only CEL's standard library plus
// cel-go's strings, lists and sets extensions and optional values: pure functions, none
// of which reads a file, the environment, the clock or the network. TestNoIOFunctions
// pins that list, so adding an extension is a reviewed change.
//
// Claims are mapped into CEL values by NewActivation: JSON numbers without a fraction
// become CEL ints (so claims.level + 1 works), values nested deeper than MaxDepth and Go
// types JSON cannot produce become null, and invalid UTF-8 is replaced; the provider's
// map is never modified.
//
// The package knows nothing of catalogs, entity refs or tokens (package resolvers does).
package celexpr
