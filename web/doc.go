// Package web owns the browser client chatd serves: a chat application in
// plain JavaScript (ES modules, no build step and no third-party code, so it
// works offline), embedded in the binary and served by Handler at /.
//
// The client speaks the chatd.v1 JSON protocol over /ws, described in
// docs/protocol.md, and the account API under /api/. The browser tests in
// this package drive it in a real Chromium against real servers.
package web
