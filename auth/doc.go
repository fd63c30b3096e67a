// Package auth owns how chatd proves who a user is: password hashing, the
// opaque login tokens chatd issues, and verification of JWTs minted by an
// external application that already has its own users.
//
// Passwords are hashed with argon2id and stored as PHC strings
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash), the format the reference
// implementation writes, so that each hash carries its own parameters and
// old hashes keep verifying after DefaultParams change.
//
// Login tokens are random bearer secrets prefixed with TokenPrefix; chatd
// stores only their SHA-256 (see HashToken), so a copy of the database is no
// way in.
//
// JWTs are for deployments where another application owns the accounts, the
// way Centrifugo accepts them: the application signs a token naming the user
// (sub), when the token expires (exp) and optionally a display name (name)
// and the rooms the user may join (rooms), and chatd verifies it with a
// Verifier configured with the application's HMAC secret or public keys.
//
// The package keeps no state of its own beyond what a Verifier holds, and
// does not depend on chatd's server, hub or store packages: they call it, not
// the other way round.
package auth
