package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Login throttling, in the manner of OWASP's device cookies. Guesses at an
// account's password are counted per (account, client address) pair, so
// that one address cannot guess fast, and per account across all
// addresses, with a higher but slower-refilling ceiling, so that many
// addresses cannot either. Only failures count: a successful attempt gives
// its tokens back. Once the account's ceiling is reached, only devices the
// account has signed in on before may keep trying: each successful login
// hands the client a device token, and an attempt that presents it is
// counted per device instead, so attackers elsewhere cannot lock the owner
// out of a device it uses, wherever that device connects from.

// logins holds the login limiters of a server. Its methods are safe for
// concurrent use.
type logins struct {
	byAddr    *keyedLimiter // all attempts per address: logins, password changes, registrations
	byPair    *keyedLimiter // failed guesses per account and address
	byDevice  *keyedLimiter // failed guesses per account and known device
	byAccount *keyedLimiter // failed guesses per account from unknown devices
	deviceKey []byte        // signs device tokens; a restart forgets every device
}

func newLogins(cfg Config) *logins {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails
	return &logins{
		byAddr:    newKeyedLimiter(cfg.LoginsPerIP, time.Minute),
		byPair:    newKeyedLimiter(cfg.LoginsPerAccount, time.Minute),
		byDevice:  newKeyedLimiter(cfg.LoginsPerAccount, time.Minute),
		byAccount: newKeyedLimiter(cfg.LoginFailuresPerAccount, time.Hour),
		deviceKey: key,
	}
}

func (l *logins) sweep(now time.Time) {
	for _, k := range []*keyedLimiter{l.byAddr, l.byPair, l.byDevice, l.byAccount} {
		k.sweep(now)
	}
}

// guess is the limiter tokens one password check took; giveBack returns
// them when the password was right.
type guess []attempt

func (g guess) giveBack(now time.Time) {
	for _, a := range g {
		a.giveBack(now)
	}
}

// start takes what one password check for account (a user key) costs,
// from addr, presenting device (maybe empty or forged). When a limit is
// reached it answers the client with 429 and returns false.
func (l *logins) start(w http.ResponseWriter, account string, addr netip.Prefix, device string) (guess, bool) {
	now := time.Now()
	checks := []throttleCheck{{l.byAddr, addr.String(), false}}
	if nonce, ok := l.knownDevice(account, device); ok {
		checks = append(checks, throttleCheck{l.byDevice, account + "\x00" + nonce, true})
	} else {
		checks = append(checks,
			throttleCheck{l.byPair, account + "\x00" + addr.String(), true},
			throttleCheck{l.byAccount, account, true})
	}
	var g guess
	for _, c := range checks {
		a, ok, retry := c.l.take(c.key, now)
		if !ok {
			g.giveBack(now)
			tooMany(w, retry)
			return nil, false
		}
		if c.failuresOnly {
			g = append(g, a)
		}
	}
	return g, true
}

type throttleCheck struct {
	l            *keyedLimiter
	key          string
	failuresOnly bool // a successful attempt gives its token back
}

// throttle takes one attempt from each limiter for its key, answering 429
// when one is used up.
func throttle(w http.ResponseWriter, checks ...throttleCheck) bool {
	now := time.Now()
	for _, c := range checks {
		if _, ok, retry := c.l.take(c.key, now); !ok {
			tooMany(w, retry)
			return false
		}
	}
	return true
}

func tooMany(w http.ResponseWriter, retry time.Duration) {
	secs := int(retry.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeAPIError(w, apiRateLimited, "too many attempts; try again in %d s", secs)
}

// newDevice returns a device token for account: a random nonce and its
// MAC, which only this server can make.
func (l *logins) newDevice(account string) string {
	nonce := rand.Text()
	return nonce + "." + l.deviceMAC(account, nonce)
}

// knownDevice reports whether device is a token newDevice made for
// account, and returns its nonce.
func (l *logins) knownDevice(account, device string) (string, bool) {
	nonce, mac, ok := strings.Cut(device, ".")
	if !ok || nonce == "" || len(device) > 256 {
		return "", false
	}
	return nonce, hmac.Equal([]byte(mac), []byte(l.deviceMAC(account, nonce)))
}

func (l *logins) deviceMAC(account, nonce string) string {
	m := hmac.New(sha256.New, l.deviceKey)
	m.Write([]byte("chatd device\x00" + account + "\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
