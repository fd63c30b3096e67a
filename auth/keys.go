package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// LoadPublicKeys parses the public keys in pemData, for JWTConfig.PublicKeys.
// It accepts any number of PEM blocks, in any order: "PUBLIC KEY" (PKIX)
// holding an RSA or Ed25519 key, and "RSA PUBLIC KEY" (PKCS #1). Text around
// the blocks is ignored. Any other block or key type is an error, as is data
// without a single key, so that a mistaken file fails at startup rather than
// at the first login.
func LoadPublicKeys(pemData []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, pemData = pem.Decode(pemData)
		if block == nil {
			break
		}
		key, err := parsePublicKey(block)
		if err != nil {
			return nil, fmt.Errorf("auth: PEM block %d: %w", n, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: no PEM-encoded public key found")
	}
	return keys, nil
}

// parsePublicKey parses one PEM block into a key of a type Verifier uses.
func parsePublicKey(block *pem.Block) (crypto.PublicKey, error) {
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKIX public key: %w", err)
		}
		switch key.(type) {
		case *rsa.PublicKey, ed25519.PublicKey:
			return key, nil
		}
		return nil, fmt.Errorf("unsupported public key type %T: want RSA or Ed25519", key)
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS #1 RSA public key: %w", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("unsupported PEM block type %q: want \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"", block.Type)
}
