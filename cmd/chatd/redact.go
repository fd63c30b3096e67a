package main

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces what stands for a password in a store URL or DSN.
const redacted = "xxxxx"

// keyValuePassword finds a password setting in a key=value connection
// string (password=…, sslpassword=…), quoted or not.
var keyValuePassword = regexp.MustCompile(`(?i)(\b[a-z_]*password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)`)

// redact returns dsn with its passwords replaced, so that it can be logged
// or shown in an error: in the userinfo of a URL, in its query parameters
// (?password=, ?sslpassword=), and in key=value form.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Opaque == "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
		q := u.Query()
		changed := false
		for k := range q {
			if isPasswordKey(k) {
				q[k] = []string{redacted}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return keyValuePassword.ReplaceAllString(dsn, "${1}"+redacted)
}

func isPasswordKey(k string) bool {
	return strings.Contains(strings.ToLower(k), "password")
}
