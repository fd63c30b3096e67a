package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
)

// now is the verification time of every test, so that tokens are
// reproducible.
var now = time.Unix(1_800_000_000, 0)

var hmacSecret = []byte("0123456789abcdef0123456789abcdef")

// rsaKey returns a 2048-bit key made once per test binary: generating one
// takes long enough under -race to be worth sharing.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var otherRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newEd25519(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// validClaims are the least a token needs: sub and exp.
func validClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "user-1", "exp": now.Add(time.Hour).Unix()}
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

func newVerifier(t *testing.T, cfg auth.JWTConfig) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func wantErr(t *testing.T, v *auth.Verifier, token string, want error) {
	t.Helper()
	c, err := v.Verify(token, now)
	if !errors.Is(err, want) {
		t.Fatalf("Verify = %+v, %v; want an error wrapping %v", c, err, want)
	}
	other := auth.ErrTokenInvalid
	if want == auth.ErrTokenInvalid {
		other = auth.ErrTokenExpired
	}
	if errors.Is(err, other) {
		t.Fatalf("Verify error %v wraps both sentinels", err)
	}
}

func TestVerifyValid(t *testing.T) {
	edPub, edPriv := newEd25519(t)
	v := newVerifier(t, auth.JWTConfig{
		HMACSecret: hmacSecret,
		PublicKeys: []crypto.PublicKey{&rsaKey().PublicKey, edPub},
	})
	tests := []struct {
		method jwt.SigningMethod
		key    any
	}{
		{jwt.SigningMethodHS256, hmacSecret},
		{jwt.SigningMethodHS384, hmacSecret},
		{jwt.SigningMethodHS512, hmacSecret},
		{jwt.SigningMethodRS256, rsaKey()},
		{jwt.SigningMethodRS512, rsaKey()},
		{jwt.SigningMethodPS256, rsaKey()},
		{jwt.SigningMethodEdDSA, edPriv},
	}
	for _, tc := range tests {
		t.Run(tc.method.Alg(), func(t *testing.T) {
			c, err := v.Verify(sign(t, tc.method, tc.key, validClaims()), now)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := auth.Claims{Subject: "user-1", Expires: now.Add(time.Hour)}
			if c.Subject != want.Subject || !c.Expires.Equal(want.Expires) || c.Name != "" || c.Rooms != nil {
				t.Errorf("Verify = %+v, want %+v", c, want)
			}
		})
	}
}

func TestVerifyNameAndRooms(t *testing.T) {
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret})
	c := validClaims()
	c["name"] = "Alice"
	c["rooms"] = []string{"lobby", "golang"}
	got, err := v.Verify(sign(t, jwt.SigningMethodHS256, hmacSecret, c), now)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Name != "Alice" || !slices.Equal(got.Rooms, []string{"lobby", "golang"}) {
		t.Errorf("Verify = %+v, want name Alice and rooms [lobby golang]", got)
	}

	// Claims of the wrong JSON type are refused, not dropped.
	for _, tc := range []struct {
		name  string
		claim string
		value any
	}{
		{"name not a string", "name", 42},
		{"rooms a string", "rooms", "lobby"},
		{"rooms mixed", "rooms", []any{"lobby", 1}},
		{"sub a number", "sub", 7},
		{"exp a string", "exp", "tomorrow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validClaims()
			c[tc.claim] = tc.value
			wantErr(t, v, sign(t, jwt.SigningMethodHS256, hmacSecret, c), auth.ErrTokenInvalid)
		})
	}
}

func TestVerifyTimes(t *testing.T) {
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret, Leeway: 30 * time.Second})
	tests := []struct {
		name string
		set  jwt.MapClaims
		want error
	}{
		{"expired", jwt.MapClaims{"exp": now.Add(-time.Minute).Unix()}, auth.ErrTokenExpired},
		{"expired within leeway", jwt.MapClaims{"exp": now.Add(-20 * time.Second).Unix()}, nil},
		{"nbf in the future", jwt.MapClaims{"nbf": now.Add(time.Minute).Unix()}, auth.ErrTokenInvalid},
		{"nbf within leeway", jwt.MapClaims{"nbf": now.Add(20 * time.Second).Unix()}, nil},
		{"nbf past", jwt.MapClaims{"nbf": now.Add(-time.Minute).Unix()}, nil},
		{"iat in the future", jwt.MapClaims{"iat": now.Add(time.Minute).Unix()}, auth.ErrTokenInvalid},
		{"iat within leeway", jwt.MapClaims{"iat": now.Add(20 * time.Second).Unix()}, nil},
		{"iat past", jwt.MapClaims{"iat": now.Add(-time.Minute).Unix()}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validClaims()
			for k, val := range tc.set {
				c[k] = val
			}
			tok := sign(t, jwt.SigningMethodHS256, hmacSecret, c)
			if tc.want == nil {
				if _, err := v.Verify(tok, now); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantErr(t, v, tok, tc.want)
		})
	}
}

// TestVerifyExpiredForgery checks that only a genuine token is reported as
// expired: a forger learns nothing from the difference.
func TestVerifyExpiredForgery(t *testing.T) {
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret})
	c := validClaims()
	c["exp"] = now.Add(-time.Hour).Unix()
	wantErr(t, v, sign(t, jwt.SigningMethodHS256, []byte("another secret that is long enough!!"), c), auth.ErrTokenInvalid)
}

func TestVerifyRequiredClaims(t *testing.T) {
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret})
	for _, tc := range []struct {
		name string
		c    jwt.MapClaims
	}{
		{"missing exp", jwt.MapClaims{"sub": "user-1"}},
		{"missing sub", jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}},
		{"empty sub", jwt.MapClaims{"sub": "", "exp": now.Add(time.Hour).Unix()}},
		{"no claims", jwt.MapClaims{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, v, sign(t, jwt.SigningMethodHS256, hmacSecret, tc.c), auth.ErrTokenInvalid)
		})
	}
}

func TestVerifyIssuerAudience(t *testing.T) {
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret, Issuer: "https://app.example", Audience: "chatd"})
	tests := []struct {
		name string
		set  jwt.MapClaims
		ok   bool
	}{
		{"both match", jwt.MapClaims{"iss": "https://app.example", "aud": "chatd"}, true},
		{"aud list contains", jwt.MapClaims{"iss": "https://app.example", "aud": []string{"other", "chatd"}}, true},
		{"iss mismatch", jwt.MapClaims{"iss": "https://evil.example", "aud": "chatd"}, false},
		{"iss missing", jwt.MapClaims{"aud": "chatd"}, false},
		{"aud mismatch", jwt.MapClaims{"iss": "https://app.example", "aud": "other"}, false},
		{"aud missing", jwt.MapClaims{"iss": "https://app.example"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validClaims()
			for k, val := range tc.set {
				c[k] = val
			}
			tok := sign(t, jwt.SigningMethodHS256, hmacSecret, c)
			if tc.ok {
				if _, err := v.Verify(tok, now); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantErr(t, v, tok, auth.ErrTokenInvalid)
		})
	}

	// Without Issuer and Audience configured, any iss and aud pass.
	open := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret})
	c := validClaims()
	c["iss"], c["aud"] = "anyone", "anything"
	if _, err := open.Verify(sign(t, jwt.SigningMethodHS256, hmacSecret, c), now); err != nil {
		t.Errorf("Verify without iss/aud configured: %v", err)
	}
}

func TestVerifyTampered(t *testing.T) {
	edPub, edPriv := newEd25519(t)
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret, PublicKeys: []crypto.PublicKey{&rsaKey().PublicKey, edPub}})
	for _, tc := range []struct {
		method jwt.SigningMethod
		key    any
	}{
		{jwt.SigningMethodHS256, hmacSecret},
		{jwt.SigningMethodRS256, rsaKey()},
		{jwt.SigningMethodEdDSA, edPriv},
	} {
		t.Run(tc.method.Alg(), func(t *testing.T) {
			tok := sign(t, tc.method, tc.key, validClaims())
			parts := strings.Split(tok, ".")
			// Flip a claim and keep the signature.
			c := validClaims()
			c["sub"] = "admin"
			payload, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			parts[1] = base64.RawURLEncoding.EncodeToString(payload)
			wantErr(t, v, strings.Join(parts, "."), auth.ErrTokenInvalid)
		})
	}
}

func TestVerifyWrongKey(t *testing.T) {
	edPub, _ := newEd25519(t)
	_, otherEd := newEd25519(t)
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret, PublicKeys: []crypto.PublicKey{&rsaKey().PublicKey, edPub}})
	for _, tc := range []struct {
		method jwt.SigningMethod
		key    any
	}{
		{jwt.SigningMethodHS256, []byte("another secret that is long enough!!")},
		{jwt.SigningMethodRS256, otherRSAKey()},
		{jwt.SigningMethodEdDSA, otherEd},
	} {
		t.Run(tc.method.Alg(), func(t *testing.T) {
			wantErr(t, v, sign(t, tc.method, tc.key, validClaims()), auth.ErrTokenInvalid)
		})
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	oldPub, oldPriv := newEd25519(t)
	newPub, newPriv := newEd25519(t)
	v := newVerifier(t, auth.JWTConfig{PublicKeys: []crypto.PublicKey{oldPub, &rsaKey().PublicKey, newPub}})
	for _, key := range []ed25519.PrivateKey{oldPriv, newPriv} {
		if _, err := v.Verify(sign(t, jwt.SigningMethodEdDSA, key, validClaims()), now); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
}

func TestVerifyAlgNone(t *testing.T) {
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret, PublicKeys: []crypto.PublicKey{&rsaKey().PublicKey}})
	payload, err := json.Marshal(validClaims())
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	for _, header := range []string{
		`{"alg":"none","typ":"JWT"}`,
		`{"alg":"None","typ":"JWT"}`,
		`{"typ":"JWT"}`,
		`{"alg":"","typ":"JWT"}`,
	} {
		for _, sig := range []string{"", enc([]byte("x"))} {
			tok := enc([]byte(header)) + "." + enc(payload) + "." + sig
			t.Run(header+" sig="+sig, func(t *testing.T) {
				wantErr(t, v, tok, auth.ErrTokenInvalid)
			})
		}
	}
}

// TestVerifyAlgorithmConfusion signs HS256 tokens with a public key's bytes
// as the HMAC secret, the classic attack on verifiers that take the
// algorithm from the token and the key from their configuration.
func TestVerifyAlgorithmConfusion(t *testing.T) {
	pub := &rsaKey().PublicKey
	pkixDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1DER := x509.MarshalPKCS1PublicKey(pub)
	edPub, _ := newEd25519(t)
	edDER, err := x509.MarshalPKIXPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{
		"RSA PKIX PEM":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER}),
		"RSA PKCS#1 PEM":  pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1DER}),
		"RSA PKIX DER":    pkixDER,
		"RSA PKCS#1 DER":  pkcs1DER,
		"Ed25519 raw":     edPub,
		"Ed25519 PEM":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edDER}),
		"Ed25519 PKIXDER": edDER,
	}
	verifiers := map[string]*auth.Verifier{
		"RSA key only":     newVerifier(t, auth.JWTConfig{PublicKeys: []crypto.PublicKey{pub}}),
		"Ed25519 key only": newVerifier(t, auth.JWTConfig{PublicKeys: []crypto.PublicKey{edPub}}),
		"public keys only": newVerifier(t, auth.JWTConfig{PublicKeys: []crypto.PublicKey{pub, edPub}}),
		"public keys and HMAC": newVerifier(t, auth.JWTConfig{
			HMACSecret: hmacSecret,
			PublicKeys: []crypto.PublicKey{pub, edPub},
		}),
	}
	for vname, v := range verifiers {
		for sname, secret := range secrets {
			for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS512} {
				t.Run(vname+"/"+sname+"/"+m.Alg(), func(t *testing.T) {
					wantErr(t, v, sign(t, m, secret, validClaims()), auth.ErrTokenInvalid)
				})
			}
		}
	}
}

func TestVerifyAlgorithmNotConfigured(t *testing.T) {
	edPub, edPriv := newEd25519(t)
	hmacOnly := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret})
	rsaOnly := newVerifier(t, auth.JWTConfig{PublicKeys: []crypto.PublicKey{&rsaKey().PublicKey}})
	edOnly := newVerifier(t, auth.JWTConfig{PublicKeys: []crypto.PublicKey{edPub}})
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    *auth.Verifier
		tok  string
	}{
		{"RS256 to HMAC only", hmacOnly, sign(t, jwt.SigningMethodRS256, rsaKey(), validClaims())},
		{"PS256 to HMAC only", hmacOnly, sign(t, jwt.SigningMethodPS256, rsaKey(), validClaims())},
		{"EdDSA to HMAC only", hmacOnly, sign(t, jwt.SigningMethodEdDSA, edPriv, validClaims())},
		{"HS256 to RSA only", rsaOnly, sign(t, jwt.SigningMethodHS256, hmacSecret, validClaims())},
		{"EdDSA to RSA only", rsaOnly, sign(t, jwt.SigningMethodEdDSA, edPriv, validClaims())},
		{"RS256 to Ed25519 only", edOnly, sign(t, jwt.SigningMethodRS256, rsaKey(), validClaims())},
		{"ES256 to all", newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret, PublicKeys: []crypto.PublicKey{&rsaKey().PublicKey, edPub}}),
			sign(t, jwt.SigningMethodES256, ecKey, validClaims())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.v, tc.tok, auth.ErrTokenInvalid)
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret})
	good := sign(t, jwt.SigningMethodHS256, hmacSecret, validClaims())
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"empty":            "",
		"one segment":      "abc",
		"two segments":     parts[0] + "." + parts[1],
		"four segments":    good + ".x",
		"garbage":          "a.b.c",
		"padded signature": good + "=",
		"header not JSON":  base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2],
		"login token":      "chatd_" + strings.Repeat("A", 43),
	} {
		t.Run(name, func(t *testing.T) {
			wantErr(t, v, tok, auth.ErrTokenInvalid)
		})
	}
}

func TestNewVerifierErrors(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv := newEd25519(t)
	tests := []struct {
		name    string
		cfg     auth.JWTConfig
		wantErr string
	}{
		{"nothing configured", auth.JWTConfig{Issuer: "x"}, "needs an HMAC secret or"},
		{"empty key list", auth.JWTConfig{PublicKeys: []crypto.PublicKey{}}, "needs an HMAC secret or"},
		{"empty HMAC secret", auth.JWTConfig{HMACSecret: []byte{}}, "at least 32"},
		{"short HMAC secret", auth.JWTConfig{HMACSecret: hmacSecret[:31]}, "at least 32"},
		{"1024-bit RSA", auth.JWTConfig{PublicKeys: []crypto.PublicKey{&small.PublicKey}}, "2048"},
		{"ECDSA", auth.JWTConfig{PublicKeys: []crypto.PublicKey{&ecKey.PublicKey}}, "unsupported key type"},
		{"RSA private key", auth.JWTConfig{PublicKeys: []crypto.PublicKey{rsaKey()}}, "unsupported key type"},
		{"Ed25519 private key", auth.JWTConfig{PublicKeys: []crypto.PublicKey{edPriv}}, "unsupported key type"},
		{"short Ed25519", auth.JWTConfig{PublicKeys: []crypto.PublicKey{edPub[:31]}}, "Ed25519 key of 31 bytes"},
		{"nil key", auth.JWTConfig{PublicKeys: []crypto.PublicKey{nil}}, "unsupported key type"},
		{"negative leeway", auth.JWTConfig{HMACSecret: hmacSecret, Leeway: -time.Second}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := auth.NewVerifier(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewVerifier = %v, %v; want an error containing %q", v, err, tc.wantErr)
			}
		})
	}
}

// TestVerifierCopiesSecret checks that changing the caller's slice after
// NewVerifier does not change what the Verifier accepts.
func TestVerifierCopiesSecret(t *testing.T) {
	secret := slices.Clone(hmacSecret)
	v := newVerifier(t, auth.JWTConfig{HMACSecret: secret})
	tok := sign(t, jwt.SigningMethodHS256, hmacSecret, validClaims())
	secret[0] ^= 0xff
	if _, err := v.Verify(tok, now); err != nil {
		t.Errorf("Verify after the caller changed its secret: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	edPub, edPriv := newEd25519(t)
	v := newVerifier(t, auth.JWTConfig{HMACSecret: hmacSecret, PublicKeys: []crypto.PublicKey{edPub}, Issuer: "app"})
	c := validClaims()
	c["iss"] = "app"
	toks := []string{
		sign(t, jwt.SigningMethodHS256, hmacSecret, c),
		sign(t, jwt.SigningMethodEdDSA, edPriv, c),
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				// Each goroutine uses its own clock, to catch a
				// parser or time func shared between calls.
				at := now
				want := error(nil)
				if (i+j)%2 == 0 {
					at, want = now.Add(2*time.Hour), auth.ErrTokenExpired
				}
				if _, err := v.Verify(toks[j%2], at); !errors.Is(err, want) && !(want == nil && err == nil) {
					t.Errorf("Verify at %v = %v, want %v", at, err, want)
				}
			}
		})
	}
	wg.Wait()
}
