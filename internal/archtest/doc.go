// Package archtest holds no code: its test checks, with `go list`, that dependencies
// between this module's packages point one way (cmd wires; providers know nothing of
// tokens, keys, storage or the catalog; the router knows no concrete provider; config
// is a leaf).
package archtest
