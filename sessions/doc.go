// Package sessions owns server-side sign-in sessions: the record each sign-in creates
// (its id travels inside the sealed refresh cookie), their revocation by logout or by
// offboarding a user, and the in-memory set of revoked session ids that every refresh
// checks without touching the database.
//
// The Registry is the concrete type the router uses. Its Store (package authdb, the
// sessions table) persists records and revocations; on PostgreSQL the store also
// carries revocations to every other process over LISTEN/NOTIFY, so a logout on one
// replica ends the session on all of them within milliseconds. A periodic reload and
// a reload after every LISTEN reconnect catch what a notification could not carry.
// While the database is unreachable the set keeps what it knew: refresh keeps
// working, and revocations made meanwhile arrive when it is back.
package sessions
