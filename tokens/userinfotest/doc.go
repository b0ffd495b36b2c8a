// Package userinfotest is the conformance suite every tokens.UserInfoStore
// implementation runs (the user_info table on SQLite and PostgreSQL, in package
// authdb). It is a non-test package so that each backend's _test.go file is only a
// few lines.
package userinfotest
