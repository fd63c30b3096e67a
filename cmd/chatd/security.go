package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/memory"
)

// parseSecurity turns the authentication and network flags into the
// server's configuration.
func (c *config) parseSecurity() error {
	mode, err := server.ParseAuthMode(c.authMode)
	if err != nil {
		return fmt.Errorf("-auth: %w", err)
	}
	c.server.Auth = mode
	c.server.ClosedRegistration = !c.registration
	if c.jwtSecret != "" || c.jwtKeyFile != "" {
		jc := auth.JWTConfig{Issuer: c.jwtIssuer, Audience: c.jwtAudience}
		if c.jwtSecret != "" {
			jc.HMACSecret = []byte(c.jwtSecret)
		}
		if c.jwtKeyFile != "" {
			pemData, err := os.ReadFile(c.jwtKeyFile)
			if err != nil {
				return fmt.Errorf("-jwt-public-key: %w", err)
			}
			if jc.PublicKeys, err = auth.LoadPublicKeys(pemData); err != nil {
				return fmt.Errorf("-jwt-public-key %s: %w", c.jwtKeyFile, err)
			}
		}
		if c.server.JWT, err = auth.NewVerifier(jc); err != nil {
			return fmt.Errorf("JWT verification: %w", err)
		}
	}
	for o := range strings.SplitSeq(c.allowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.server.AllowedOrigins = append(c.server.AllowedOrigins, o)
		}
	}
	for p := range strings.SplitSeq(c.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("-trusted-proxies: %q is neither an address nor a CIDR", p)
			}
			prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.server.TrustedProxies = append(c.server.TrustedProxies, prefix)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	return nil
}

// accountsOf returns where accounts live: in the message store when it
// keeps them, else in memory for the life of the process.
func accountsOf(st store.Store) store.Accounts {
	if a, ok := st.(store.Accounts); ok {
		return a
	}
	return memory.NewAccounts()
}

// listen opens the listener, and sets up TLS when -tls-cert is set (the
// server speaks it on the listener, inside its per-address cap on
// accepted connections). WebSockets need HTTP/1.1, which is all chatd
// offers in ALPN.
func (c *config) listen() (net.Listener, string, error) {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	if c.tlsCert == "" {
		return ln, "ws", nil
	}
	cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
	if err != nil {
		ln.Close()
		return nil, "", fmt.Errorf("load -tls-cert and -tls-key: %w", err)
	}
	c.server.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
	return ln, "wss", nil
}
