package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestTheServerServesTheClient(t *testing.T) {
	srv := servertest.Start(t, server.Config{})
	base := "http://" + srv.Addr
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/app.js", "text/javascript; charset=utf-8", "import"},
		{"/conn.js", "text/javascript; charset=utf-8", "WebSocket"},
		{"/style.css", "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		resp, body := servertest.Get(t, base+tc.path, nil)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != tc.contentType || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: %d %q, body has %q: %v", tc.path, resp.StatusCode, h.Get("Content-Type"), tc.contains, strings.Contains(body, tc.contains))
		}
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self' ws: wss:", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", tc.path, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q allows unsafe sources", tc.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: headers %v", tc.path, h)
		}
		etag := h.Get("ETag")
		if etag == "" || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q; want revalidation against a content hash", tc.path, etag, h.Get("Cache-Control"))
			continue
		}
		if again, body := servertest.Get(t, base+tc.path, http.Header{"If-None-Match": {etag}}); again.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("GET %s with its ETag: %d %q, want 304", tc.path, again.StatusCode, body)
		}
	}
	app, _ := servertest.Get(t, base+"/app.js", nil)
	conn, _ := servertest.Get(t, base+"/conn.js", nil)
	if app.Header.Get("ETag") == conn.Header.Get("ETag") {
		t.Error("two different files have the same ETag")
	}

	resp, _ := servertest.Get(t, base+"/no-such-file.js", nil)
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /no-such-file.js: %d, headers %v", resp.StatusCode, resp.Header)
	}
	// The server's own routes win over the client's catch-all.
	if resp, body := servertest.Get(t, base+"/healthz", nil); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q", resp.StatusCode, body)
	}
	if resp, _ := servertest.Get(t, base+"/ws", nil); resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("GET /ws without an upgrade: %d, want 426 from the WebSocket endpoint", resp.StatusCode)
	}
	post, err := http.Post(base+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", post.StatusCode)
	}
}
