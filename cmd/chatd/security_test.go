package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "chatd test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSAccountsAndThePublishAPI runs the binary with TLS, required
// sign-in and an API key from the environment, as an operator would.
func TestTLSAccountsAndThePublishAPI(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	url, _ := startChatdEnv(t, buildChatd(t), []string{"CHATD_API_KEY=k3y"},
		"-addr", "127.0.0.1:0", "-store", "memory", "-auth", "required", "-tls-cert", certFile, "-tls-key", keyFile)
	if !strings.HasPrefix(url, "wss://") {
		t.Fatalf("logged %s", url)
	}
	base := "https://" + strings.TrimSuffix(strings.TrimPrefix(url, "wss://"), "/ws")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	post := func(path, bearer string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var reply map[string]any
		_ = json.Unmarshal(raw, &reply)
		return resp.StatusCode, reply
	}
	status, reply := post("/api/register", "", map[string]string{"name": "olivia", "password": "olivia's password"})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, reply)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc}); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("guest under -auth required: %v", err)
	}
	ws, _, err := websocket.Dial(ctx, url+"?room=ops", &websocket.DialOptions{HTTPClient: hc,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + reply["token"].(string)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// The plain client may not have joined yet when the post lands; post
	// until one arrives.
	got := make(chan string, 1)
	go func() {
		if _, p, err := ws.Read(ctx); err == nil {
			got <- string(p)
		}
	}()
	for {
		if status, reply := post("/api/rooms/ops/messages", "k3y", map[string]string{"text": "deployed"}); status != http.StatusCreated {
			t.Fatalf("publish: %d %v", status, reply)
		}
		select {
		case text := <-got:
			if text != "deployed" {
				t.Fatalf("got %q", text)
			}
			return
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("the posted message never arrived")
		}
	}
}

func TestSecurityFlags(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	for _, args := range [][]string{
		{"-auth", "sometimes"},
		{"-tls-cert", "x.pem"},
		{"-trusted-proxies", "not-an-address"},
		{"-jwt-hmac-secret", "too short"},
		{"-jwt-public-key", "/nonexistent.pem"},
	} {
		if _, err := parseConfig(args, none, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	c, err := parseConfig([]string{"-trusted-proxies", "10.0.0.0/8, 127.0.0.1", "-allowed-origins", "https://a.example,https://b.example",
		"-jwt-hmac-secret", strings.Repeat("s", 32), "-logins-per-ip", "0"}, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.server.TrustedProxies) != 2 || c.server.TrustedProxies[1].Bits() != 32 || len(c.server.AllowedOrigins) != 2 ||
		c.server.JWT == nil || c.server.LoginsPerIP != -1 || c.server.IPConns != 500 || c.server.IPConnBurst != 100 {
		t.Fatalf("parsed %+v", c.server)
	}
}
