// Package keystoretest is the conformance suite every jwks.KeyStore and
// jwks.UserInfoStore implementation runs (memory, SQLite, PostgreSQL), in the manner of
// dex's storage/conformance: Run for behaviour (add, list, duplicate kid, removal
// semantics, large keys, a stored JWK that still verifies a signature), RunConcurrency
// for parallel use under -race, and RunUserInfo for the user_info store. It is a
// non-test package so that each backend's _test.go file is only a few lines.
package keystoretest
