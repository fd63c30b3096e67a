package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// dialFrom opens a TCP connection to addr from the loopback address local.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// healthz asks GET /healthz on nc, keeping the connection alive, and
// returns the status, or an error when the server hung up instead.
func healthz(nc net.Conn, br *bufio.Reader) (int, error) {
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(nc, "GET /healthz HTTP/1.1\r\nHost: chatd\r\n\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// served reports whether a new connection from local gets an answer.
func served(t *testing.T, local, addr string) bool {
	t.Helper()
	nc := dialFrom(t, local, addr)
	defer nc.Close()
	status, err := healthz(nc, bufio.NewReader(nc))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection from %s neither served nor closed", local)
	}
	return err == nil && status == http.StatusOK
}

func dialWSFrom(ctx context.Context, local, url string) (*websocket.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return c, err
}

func TestOneAddressCannotHoldEveryConnection(t *testing.T) {
	const limit = 4
	ts := servertest.Start(t, server.Config{IPTCPConns: limit, KeepAliveTimeout: time.Minute})
	// 127.0.0.1 holds its four: two idle keep-alive connections and two
	// requests it never finishes.
	var held []net.Conn
	for range 2 {
		nc := dialFrom(t, "127.0.0.1", ts.Addr)
		if status, err := healthz(nc, bufio.NewReader(nc)); err != nil || status != http.StatusOK {
			t.Fatalf("keep-alive request: %d %v", status, err)
		}
		held = append(held, nc)
	}
	for range 2 {
		nc := dialFrom(t, "127.0.0.1", ts.Addr)
		if _, err := nc.Write([]byte("GET /ws HTTP/1.1\r\nHost: chatd\r\n")); err != nil {
			t.Fatal(err)
		}
		held = append(held, nc)
	}
	if served(t, "127.0.0.1", ts.Addr) {
		t.Fatalf("a fifth connection from the address that holds %d was served", limit)
	}
	if got := ts.Stats().Refused[server.RefusedIPTCPConns]; got != 1 {
		t.Fatalf("refused at accept: %d", got)
	}
	// Another address is served, HTTP and WebSocket.
	if !served(t, "127.0.0.2", ts.Addr) {
		t.Fatal("a connection from 127.0.0.2 was not served")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	other, err := dialWSFrom(ctx, "127.0.0.2", wsURL(ts, ""))
	if err != nil {
		t.Fatalf("WebSocket from 127.0.0.2: %v", err)
	}
	defer other.CloseNow()

	// Closing what it holds gives the address its allowance back, and a
	// WebSocket (hijacked from net/http) counts until it closes, once.
	for _, nc := range held {
		nc.Close()
	}
	var wss []*websocket.Conn
	servertest.WaitFor(t, "the address's connections to be released", func() bool {
		c, err := dialWSFrom(ctx, "127.0.0.1", wsURL(ts, ""))
		if err != nil {
			return false
		}
		wss = append(wss, c)
		return len(wss) == limit
	})
	if c, err := dialWSFrom(ctx, "127.0.0.1", wsURL(ts, "")); err == nil {
		c.CloseNow()
		t.Fatalf("a WebSocket beyond %d from one address", limit)
	}
	for _, c := range wss[:2] {
		c.Close(websocket.StatusNormalClosure, "")
	}
	servertest.WaitFor(t, "two WebSockets to be released", func() bool {
		c, err := dialWSFrom(ctx, "127.0.0.1", wsURL(ts, ""))
		if err != nil {
			return false
		}
		wss = append(wss, c)
		return len(wss) == limit+2
	})
	if c, err := dialWSFrom(ctx, "127.0.0.1", wsURL(ts, "")); err == nil {
		c.CloseNow()
		t.Fatal("closing two WebSockets released more than two connections")
	}
	for _, c := range wss {
		c.CloseNow()
	}
}

func TestTrustedProxiesAreNotCappedAtAccept(t *testing.T) {
	ts := servertest.Start(t, server.Config{IPTCPConns: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	for i := range 3 {
		nc := dialFrom(t, "127.0.0.1", ts.Addr)
		if status, err := healthz(nc, bufio.NewReader(nc)); err != nil || status != http.StatusOK {
			t.Fatalf("connection %d from the proxy: %d %v", i, status, err)
		}
	}
	nc := dialFrom(t, "127.0.0.2", ts.Addr)
	if status, err := healthz(nc, bufio.NewReader(nc)); err != nil || status != http.StatusOK {
		t.Fatalf("first connection from another address: %d %v", status, err)
	}
	if served(t, "127.0.0.2", ts.Addr) {
		t.Fatal("an address that is not a proxy went over its cap")
	}
}
