// Package keystoretest is the conformance suite every signingkeys.KeyStore
// implementation runs (memory, SQLite, PostgreSQL), in the manner of dex's
// storage/conformance: Run for behaviour (add, list, duplicate kid, removal semantics,
// large keys, a stored JWK that still verifies a signature) and RunConcurrency for
// parallel use under -race. It is a non-test package so that each backend's _test.go
// file is only a few lines. (The user_info store has its own kit,
// tokens/userinfotest.)
package keystoretest
