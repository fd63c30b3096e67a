package natsbus_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/server"
)

// nameLease is the name lease of the nodes in these tests: short, so that
// a dead node's names come free within the test.
const nameLease = 900 * time.Millisecond

var jwtSecret = []byte(strings.Repeat("k", 32))

// nameNodes starts two nodes with a short name lease that accept JWTs
// signed with jwtSecret.
func nameNodes(t *testing.T) (*node, *node) {
	t.Helper()
	v, err := auth.NewVerifier(auth.JWTConfig{HMACSecret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	opts := func(c *server.Config) { c.NameLease, c.JWT = nameLease, v }
	dsn := schemaDSN(t)
	first := startNode(t, dsn, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "n1", CatchUpInterval: noCatchUp}, opts)
	second := startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "n2", CatchUpInterval: noCatchUp}, opts)
	return first, second
}

func signJWT(t *testing.T, sub string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tryDial connects a chatd.v1 client to n with query, and returns the
// connection, or the status and body of the refusal.
func tryDial(t *testing.T, n *node, query string) (*raw, int, string) {
	t.Helper()
	ws, resp, err := websocket.Dial(servertest.Context(t), n.srv.URL()+query, &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	if err == nil {
		t.Cleanup(func() { ws.CloseNow() })
		return &raw{t: t, ws: ws}, 0, ""
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return nil, resp.StatusCode, string(body)
}

// refused dials n with query and returns the refusal, failing the test if
// the connection is accepted.
func refused(t *testing.T, n *node, query string) (int, string) {
	t.Helper()
	c, status, body := tryDial(t, n, query)
	if c != nil {
		c.ws.CloseNow()
		t.Fatalf("%s accepted, want a refusal", query)
	}
	return status, body
}

// eventually dials n with query until it is accepted, within deadline.
func eventually(t *testing.T, n *node, query string, within time.Duration) *raw {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, status, body := tryDial(t, n, query)
		if c != nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still refused after %v: %d %s", query, within, status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNamesAreUniqueAcrossNodes asks for one guest name on two nodes: the
// second gets the refusal a second guest gets on one node, its session
// token carries the name to the other node, and once its holder leaves the
// name is anyone's again.
func TestNamesAreUniqueAcrossNodes(t *testing.T) {
	first, second := nameNodes(t)
	zed, _, _ := tryDial(t, first, "?name=zed")
	if zed == nil {
		t.Fatal("zed refused on a fresh cluster")
	}
	token, _ := zed.must("welcome")["session"].(string)

	oneNode, oneBody := refused(t, first, "?name=zed")
	otherNode, otherBody := refused(t, second, "?name=Zed")
	if oneNode != http.StatusConflict || otherNode != oneNode || !strings.Contains(otherBody, "name is taken") {
		t.Fatalf("second zed: %d %q on the holder's node, %d %q on another; want the same 409", oneNode, oneBody, otherNode, otherBody)
	}

	// Nor can the name be registered on another node while the guest
	// holds it.
	resp, err := http.Post("http://"+second.srv.Addr+"/api/register", "application/json",
		strings.NewReader(`{"name":"zed","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("registering zed on another node: %s, want 409", resp.Status)
	}

	// The session token is the name's on every node: a reconnect to
	// another node is the same guest.
	again, _, body := tryDial(t, second, "?name=zed&session="+token)
	if again == nil {
		t.Fatalf("zed with its token refused on another node: %s", body)
	}
	if w := again.must("welcome"); w["name"] != "zed" || w["session"] != token {
		t.Fatalf("zed on another node: welcome %v, want the name and token %q", w, token)
	}

	// Generated names never collide across nodes.
	g1, _, _ := tryDial(t, first, "")
	g2, _, _ := tryDial(t, second, "")
	if n1, n2 := g1.must("welcome")["name"], g2.must("welcome")["name"]; n1 == n2 {
		t.Fatalf("both nodes generated %v", n1)
	}

	zed.ws.Close(websocket.StatusNormalClosure, "")
	again.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, second, "?name=zed", servertest.Wait).must("welcome")
}

// TestSignedInUserTakesItsNameFromAGuestOnAnotherNode: the guest's
// connection closes with 4002, as on one node.
func TestSignedInUserTakesItsNameFromAGuestOnAnotherNode(t *testing.T) {
	first, second := nameNodes(t)
	squatter := dialRaw(t, second, "?name=Nina", "")
	squatter.must("welcome")
	if err := flushAll([]*node{first, second}); err != nil {
		t.Fatal(err)
	}
	nina := dialRaw(t, first, "", signJWT(t, "nina"))
	if w := nina.must("welcome"); w["name"] != "nina" {
		t.Fatalf("welcome %v", w)
	}
	_, err := squatter.next("never")
	if code := websocket.CloseStatus(err); int(code) != int(protocol.CloseNameClaimed) {
		t.Fatalf("the guest's connection: %v, want close %d", err, protocol.CloseNameClaimed)
	}
	refused(t, second, "?name=nina")
}

// TestDeadNodesNamesAreFreed stops a node without a goodbye: the names
// its users held come free on the others once its lease passes.
func TestDeadNodesNamesAreFreed(t *testing.T) {
	first, second := nameNodes(t)
	dialRaw(t, second, "?name=zed", "").must("welcome")
	refused(t, first, "?name=zed")
	// Cut off from the database and from NATS, the node can neither
	// renew its holds nor release them.
	second.st.Close()
	natsbus.Vanish(second.bus)
	eventually(t, first, "?name=zed", nameLease+servertest.Wait).must("welcome")
}
