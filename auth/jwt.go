package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrTokenExpired is returned (wrapped) by Verifier.Verify for a token that
// is genuine but whose exp has passed: the client should fetch a new one.
var ErrTokenExpired = errors.New("auth: token expired")

// ErrTokenInvalid is returned (wrapped) by Verifier.Verify for every other
// token it refuses: malformed, badly signed, signed with an algorithm or key
// that is not configured, not yet valid, for another issuer or audience, or
// missing a required claim.
var ErrTokenInvalid = errors.New("auth: invalid token")

// MinHMACSecretLen is the shortest HMAC secret NewVerifier accepts, in
// bytes. RFC 7518 §3.2 requires an HS256 key at least as long as the hash,
// and anyone holding one token can try guesses at a shorter secret offline.
const MinHMACSecretLen = 32

// MinRSABits is the smallest RSA modulus NewVerifier accepts, the minimum
// RFC 7518 §3.3 requires for RS256 and PS256.
const MinRSABits = 2048

// JWTConfig configures a Verifier. At least one of HMACSecret and PublicKeys
// must be set; each enables only the algorithms that belong to its key type.
type JWTConfig struct {
	// HMACSecret, if set, verifies HS256, HS384 and HS512 tokens. It must
	// be at least MinHMACSecretLen bytes.
	HMACSecret []byte
	// PublicKeys verify RS256, RS384, RS512, PS256, PS384 and PS512 tokens
	// (*rsa.PublicKey) and EdDSA tokens (ed25519.PublicKey); see
	// LoadPublicKeys. A token's kid header is ignored: every key of the type
	// its algorithm needs is tried, so keys can be rotated by configuring
	// the old and the new one side by side.
	PublicKeys []crypto.PublicKey
	// Issuer, if set, must equal the token's iss claim.
	Issuer string
	// Audience, if set, must be one of the token's aud claim's values.
	Audience string
	// Leeway is the clock skew tolerated when checking exp, nbf and iat.
	Leeway time.Duration
}

// Claims is what a verified JWT says about its user.
type Claims struct {
	// Subject is the user's ID in the issuing application (sub); never
	// empty.
	Subject string
	// Name is the display name the application gave (name), or empty.
	Name string
	// Rooms are the rooms the application lets the user into (rooms), or
	// nil. They are passed on as written: callers validate room names.
	Rooms []string
	// Expires is when the token expires (exp).
	Expires time.Time
}

// Verifier checks JWTs minted by an external application. It is immutable
// once made and safe for concurrent use.
type Verifier struct {
	hmac     []byte
	rsaKeys  []jwt.VerificationKey
	edKeys   []jwt.VerificationKey
	methods  []string
	issuer   string
	audience string
	leeway   time.Duration
}

// NewVerifier returns a Verifier for cfg. It is an error to configure no key,
// an HMAC secret shorter than MinHMACSecretLen, an RSA key shorter than
// MinRSABits, a key of another type, or a negative leeway.
func NewVerifier(cfg JWTConfig) (*Verifier, error) {
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("auth: negative JWT leeway %v", cfg.Leeway)
	}
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience, leeway: cfg.Leeway}
	if cfg.HMACSecret != nil {
		if len(cfg.HMACSecret) < MinHMACSecretLen {
			return nil, fmt.Errorf("auth: JWT HMAC secret is %d bytes, want at least %d: a shorter secret can be guessed offline from any one token",
				len(cfg.HMACSecret), MinHMACSecretLen)
		}
		v.hmac = append([]byte(nil), cfg.HMACSecret...)
		v.methods = append(v.methods, "HS256", "HS384", "HS512")
	}
	for i, key := range cfg.PublicKeys {
		switch k := key.(type) {
		case *rsa.PublicKey:
			if k.N == nil || k.N.BitLen() < MinRSABits {
				return nil, fmt.Errorf("auth: JWT public key %d: RSA key shorter than %d bits", i, MinRSABits)
			}
			v.rsaKeys = append(v.rsaKeys, k)
		case ed25519.PublicKey:
			if len(k) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("auth: JWT public key %d: Ed25519 key of %d bytes, want %d", i, len(k), ed25519.PublicKeySize)
			}
			v.edKeys = append(v.edKeys, k)
		default:
			return nil, fmt.Errorf("auth: JWT public key %d: unsupported key type %T: want *rsa.PublicKey or ed25519.PublicKey", i, key)
		}
	}
	if len(v.rsaKeys) > 0 {
		v.methods = append(v.methods, "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
	}
	if len(v.edKeys) > 0 {
		v.methods = append(v.methods, "EdDSA")
	}
	if len(v.methods) == 0 {
		return nil, errors.New("auth: JWT verification needs an HMAC secret or at least one public key")
	}
	return v, nil
}

// tokenClaims is the JSON shape of the claims chatd reads.
type tokenClaims struct {
	jwt.RegisteredClaims
	Name  string   `json:"name,omitempty"`
	Rooms []string `json:"rooms,omitempty"`
}

// Verify checks token's signature and claims as of now and returns what it
// says. exp and a non-empty sub are required; nbf and iat, when present, must
// not be in the future (give or take the leeway); iss and aud must match
// when the Verifier was configured with them. The error wraps
// ErrTokenExpired or ErrTokenInvalid; a token is reported as expired only
// once its signature has been verified, so the difference tells a forger
// nothing.
func (v *Verifier) Verify(token string, now time.Time) (Claims, error) {
	var tc tokenClaims
	_, err := v.parser(now).ParseWithClaims(token, &tc, v.key)
	if err != nil {
		// The library's error only adds detail; it is formatted, not
		// wrapped, so that callers depend on this package's sentinels
		// alone.
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, fmt.Errorf("%w: %v", ErrTokenExpired, err)
		}
		return Claims{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	if tc.Subject == "" {
		return Claims{}, fmt.Errorf("%w: sub claim is missing or empty", ErrTokenInvalid)
	}
	return Claims{
		Subject: tc.Subject,
		Name:    tc.Name,
		Rooms:   tc.Rooms,
		Expires: tc.ExpiresAt.Time,
	}, nil
}

// parser returns a parser for one call. A jwt.Parser fixes its clock when it
// is made, so each call gets its own; that also keeps Verify free of shared
// mutable state.
func (v *Verifier) parser(now time.Time) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		// One spelling per token: no padding, no non-zero trailing bits.
		jwt.WithStrictDecoding(),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	return jwt.NewParser(opts...)
}

// key returns the keys that may verify t: only those of the type t's
// algorithm needs. WithValidMethods already refuses unconfigured
// algorithms; matching the key type here as well is what keeps an RSA key's
// bytes from ever being used as an HMAC secret (algorithm confusion) even if
// the method list were wrong.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	var keys []jwt.VerificationKey
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		if v.hmac != nil {
			return v.hmac, nil
		}
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		keys = v.rsaKeys
	case *jwt.SigningMethodEd25519:
		keys = v.edKeys
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no key configured for algorithm %s", t.Method.Alg())
	}
	return jwt.VerificationKeySet{Keys: keys}, nil
}
