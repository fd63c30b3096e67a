package server_test

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// loginFrom posts a login as a client whose address a trusted proxy
// forwards, and returns the status and error code.
func loginFrom(t *testing.T, ts *servertest.Server, forwardedFor, name, password string) (int, string) {
	t.Helper()
	status, reply, _ := apiFrom(t, ts, forwardedFor, "POST", "/api/login", "", map[string]string{"name": name, "password": password})
	return status, errCode(reply)
}

func TestAFullLoginTableTurnsNoOneAway(t *testing.T) {
	t.Cleanup(server.SetMaxTrackedKeys(4))
	ts, _ := startAccounts(t, func(c *server.Config) { c.LoginsPerIP = 1000 })
	register(t, ts, "kim", "kim's password")
	// Made-up names fill the per-account table many times over.
	for i := range 12 {
		status, reply, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": fmt.Sprintf("nobody%d", i), "password": "guess guess"})
		if status != http.StatusUnauthorized {
			t.Fatalf("made-up name %d: %d %v", i, status, reply)
		}
	}
	login(t, ts, "kim", "kim's password")
}

func TestLoginAttemptsCountIPv6AddressesBy64(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) {
		c.LoginsPerIP = 2
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	for i, tc := range []struct {
		from string
		want int
	}{
		{"2001:db8:1:2::1", http.StatusUnauthorized},
		{"2001:db8:1:2::2", http.StatusUnauthorized},
		{"2001:db8:1:2:ffff::9", http.StatusTooManyRequests}, // same /64
		{"2001:db8:1:3::1", http.StatusUnauthorized},         // another /64
	} {
		if status, code := loginFrom(t, ts, tc.from, fmt.Sprintf("user%d", i), "guess guess"); status != tc.want {
			t.Fatalf("login %d from %s: %d %s, want %d", i, tc.from, status, code, tc.want)
		}
	}
}

func TestAnAbandonedLoginIsNotCountedAsASuccess(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	register(t, ts, "lou", "lou's password")
	release := server.HoldHashing(ts.Server)
	defer release()
	// A client sends its login and hangs up while the password waits to
	// be checked.
	nc, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"name":"lou","password":"lou's password"}`
	fmt.Fprintf(nc, "POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", ts.Addr, len(body), body)
	nc.Close()
	login := func() map[server.AccountOutcome]uint64 {
		out := map[server.AccountOutcome]uint64{}
		for o, n := range ts.Stats().Accounts {
			if o.Request == "login" {
				out[o] = n
			}
		}
		return out
	}
	servertest.WaitFor(t, "the abandoned login counted", func() bool { return len(login()) > 0 })
	want := map[server.AccountOutcome]uint64{{Request: "login", Result: "abandoned"}: 1}
	if got := login(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("login outcomes: %v, want %v", got, want)
	}
}

// loginDevice posts a login from a forwarded address with a device token,
// and returns the status, the error code and the device token replied.
func loginDevice(t *testing.T, ts *servertest.Server, from, name, password, device string) (int, string, string) {
	t.Helper()
	status, reply, _ := apiFrom(t, ts, from, "POST", "/api/login", "", map[string]string{"name": name, "password": password, "device": device})
	dev, _ := reply["device"].(string)
	return status, errCode(reply), dev
}

func TestGuessesFromManyAddressesDoNotLockTheOwnerOutOfItsDevices(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) {
		c.LoginsPerAccount = 3
		c.LoginFailuresPerAccount = 5
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	register(t, ts, "mia", "mia's password")
	status, code, device := loginDevice(t, ts, "198.51.100.7", "mia", "mia's password", "")
	if status != http.StatusOK || device == "" {
		t.Fatalf("first login: %d %s, device %q", status, code, device)
	}
	for i, tc := range []struct {
		from, password, device string
		want                   int
	}{
		// One address guesses until its share for the account is spent...
		{"203.0.113.1", "guess 1 guess", "", http.StatusUnauthorized},
		{"203.0.113.1", "guess 2 guess", "", http.StatusUnauthorized},
		{"203.0.113.1", "guess 3 guess", "", http.StatusUnauthorized},
		{"203.0.113.1", "guess 4 guess", "", http.StatusTooManyRequests},
		// ...which leaves the owner's own address alone...
		{"198.51.100.7", "mia's password", "", http.StatusOK},
		// ...and other addresses guess until the account's ceiling.
		{"203.0.113.2", "guess 5 guess", "", http.StatusUnauthorized},
		{"203.0.113.2", "guess 6 guess", "", http.StatusUnauthorized},
		{"203.0.113.3", "guess 7 guess", "", http.StatusTooManyRequests},
		// A device the owner signed in on gets in from anywhere, even an
		// attacker's address; a forged device token does not.
		{"192.0.2.50", "mia's password", device, http.StatusOK},
		{"203.0.113.1", "mia's password", device, http.StatusOK},
		{"203.0.113.4", "guess 8 guess", "AAAA." + device, http.StatusTooManyRequests},
		// A new device waits for the ceiling to refill: the price of
		// stopping guesses from everywhere.
		{"192.0.2.51", "mia's password", "", http.StatusTooManyRequests},
	} {
		if status, code, _ := loginDevice(t, ts, tc.from, "mia", tc.password, tc.device); status != tc.want {
			t.Fatalf("attempt %d from %s: %d %s, want %d", i, tc.from, status, code, tc.want)
		}
	}
	// A known device is limited on its own: it cannot be used to guess.
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
		if status, code, _ := loginDevice(t, ts, "192.0.2.50", "mia", "wrong on a known device", device); status != want {
			t.Fatalf("guess %d on the known device: %d %s, want %d", i, status, code, want)
		}
	}
}
