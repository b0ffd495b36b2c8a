// Package oauthstate owns Backstage's OAuth `state` parameter: the hex encoding of an
// application/x-www-form-urlencoded query carrying the nonce, env, origin, redirectUrl,
// flow and scope of one sign-in (plugin-auth-node state.ts).
//
// The wire format is byte-identical to Node's
// Buffer.from(new URLSearchParams(obj).toString()).toString('hex'), and Decode follows
// Node's lenient decoding (hex stops at the first invalid pair, WHATWG UTF-8 decoding
// with replacement characters, last value wins) so both implementations accept and
// reject the same states. The state is not authenticated: callers must compare
// State.Nonce with the nonce cookie (in constant time) before trusting any field.
package oauthstate
