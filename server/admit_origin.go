package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// checkOrigin refuses a WebSocket upgrade sent by a page of another site
// (cross-site WebSocket hijacking: a page the user visits opening a
// WebSocket to chatd). Browsers always send Origin on a WebSocket
// handshake and pages cannot forge it; clients that are not browsers send
// none and are let through, as the token, not the origin, is what
// authenticates them. The server's own origin is always allowed, and
// Config.AllowedOrigins adds others.
func (s *Server) checkOrigin(r *http.Request) *refusal {
	origin := r.Header.Get("Origin")
	if origin == "" || s.originAllowed(origin, r.Host) {
		return nil
	}
	return &refusal{http.StatusForbidden, RefusedOrigin,
		"pages from origin " + origin + " may not use this server; add it to -allowed-origins"}
}

func (s *Server) originAllowed(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null" (sandboxed frames, file:) and garbage
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	return slices.ContainsFunc(s.cfg.AllowedOrigins, func(a string) bool {
		return a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), origin)
	})
}
