package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
)

func pemBlock(t *testing.T, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkix(t *testing.T, key crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestLoadPublicKeys(t *testing.T) {
	rsaPub := &rsaKey().PublicKey
	edPub, _ := newEd25519(t)
	rsaPKIX := pemBlock(t, "PUBLIC KEY", pkix(t, rsaPub))
	rsaPKCS1 := pemBlock(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rsaPub))
	edPKIX := pemBlock(t, "PUBLIC KEY", pkix(t, edPub))

	tests := []struct {
		name string
		data string
		want []crypto.PublicKey
	}{
		{"RSA PKIX", rsaPKIX, []crypto.PublicKey{rsaPub}},
		{"RSA PKCS#1", rsaPKCS1, []crypto.PublicKey{rsaPub}},
		{"Ed25519", edPKIX, []crypto.PublicKey{edPub}},
		{"several with text between", "# old key\n" + rsaPKCS1 + "\n# new key\n" + edPKIX + rsaPKIX,
			[]crypto.PublicKey{rsaPub, edPub, rsaPub}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := auth.LoadPublicKeys([]byte(tc.data))
			if err != nil {
				t.Fatalf("LoadPublicKeys: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("LoadPublicKeys returned %d keys, want %d", len(got), len(tc.want))
			}
			for i, k := range got {
				if !k.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.want[i]) {
					t.Errorf("key %d = %T, not the key encoded", i, k)
				}
			}
		})
	}
}

func TestLoadPublicKeysErrors(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := &rsaKey().PublicKey
	good := pemBlock(t, "PUBLIC KEY", pkix(t, rsaPub))
	privDER, err := x509.MarshalPKCS8PrivateKey(rsaKey())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{"empty", "", "no PEM"},
		{"garbage", "not a key at all", "no PEM"},
		{"DER without PEM", string(pkix(t, rsaPub)), "no PEM"},
		{"ECDSA", pemBlock(t, "PUBLIC KEY", pkix(t, &ecKey.PublicKey)), "unsupported public key type"},
		{"private key", pemBlock(t, "PRIVATE KEY", privDER), "unsupported PEM block type"},
		{"certificate block", pemBlock(t, "CERTIFICATE", []byte("junk")), "unsupported PEM block type"},
		{"corrupt PKIX", pemBlock(t, "PUBLIC KEY", []byte("junk")), "parse PKIX"},
		{"corrupt PKCS#1", pemBlock(t, "RSA PUBLIC KEY", []byte("junk")), "parse PKCS #1"},
		{"PKIX in an RSA PUBLIC KEY block", pemBlock(t, "RSA PUBLIC KEY", pkix(t, rsaPub)), "parse PKCS #1"},
		{"good then bad", good + pemBlock(t, "PUBLIC KEY", []byte("junk")), "PEM block 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := auth.LoadPublicKeys([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadPublicKeys = %d keys, %v; want an error containing %q", len(keys), err, tc.wantErr)
			}
			if keys != nil {
				t.Errorf("LoadPublicKeys returned keys with an error")
			}
		})
	}
}

// TestLoadedKeysVerify runs the path a deployment takes: keys read from
// PEM, a Verifier made from them, and tokens signed by the application.
func TestLoadedKeysVerify(t *testing.T) {
	edPub, edPriv := newEd25519(t)
	data := pemBlock(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey().PublicKey)) +
		pemBlock(t, "PUBLIC KEY", pkix(t, edPub))
	keys, err := auth.LoadPublicKeys([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, auth.JWTConfig{PublicKeys: keys})
	for _, tc := range []struct {
		m   jwt.SigningMethod
		key crypto.Signer
	}{
		{jwt.SigningMethodRS256, rsaKey()},
		{jwt.SigningMethodEdDSA, edPriv},
	} {
		if _, err := v.Verify(sign(t, tc.m, tc.key, validClaims()), now); err != nil {
			t.Errorf("%s: Verify: %v", tc.m.Alg(), err)
		}
	}
}
