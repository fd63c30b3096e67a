package natsbus_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
)

// raw is a chatd.v1 connection read frame by frame, for events the Go
// client does not surface.
type raw struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, n *node, query, token string) *raw {
	t.Helper()
	opts := &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}}
	if token != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + token}}
	}
	ws, _, err := websocket.Dial(servertest.Context(t), n.srv.URL()+query, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &raw{t: t, ws: ws}
}

func (r *raw) send(req protocol.Request) {
	r.t.Helper()
	b, _ := json.Marshal(req)
	if err := r.ws.Write(servertest.Context(r.t), websocket.MessageText, b); err != nil {
		r.t.Fatal(err)
	}
}

// next returns the next event of type typ, skipping others; a closed
// connection returns its close error.
func (r *raw) next(typ string) (map[string]any, error) {
	r.t.Helper()
	for {
		_, b, err := r.ws.Read(servertest.Context(r.t))
		if err != nil {
			return nil, err
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			r.t.Fatal(err)
		}
		if ev["type"] == typ {
			return ev, nil
		}
	}
}

func (r *raw) must(typ string) map[string]any {
	r.t.Helper()
	ev, err := r.next(typ)
	if err != nil {
		r.t.Fatalf("waiting for %s: %v", typ, err)
	}
	return ev
}

// TestDirectMessagesReachEveryNode sends a direct message on one node to a
// user connected to two others: every connection of the recipient gets
// it, and so does the sender's other device on another node.
func TestDirectMessagesReachEveryNode(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	alice := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "alice"})
	aliceElsewhere := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "alice", Session: alice.Session()})
	bob2 := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "bob"})
	bob3 := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "bob", Session: bob2.Session()})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.DM(servertest.Context(t), "Bob", "hi bob"); err != nil {
		t.Fatal(err)
	}
	for who, c := range map[string]*client.Client{"bob on node 2": bob2, "bob on node 3": bob3, "alice's other device": aliceElsewhere} {
		dm := servertest.Next[*client.DM](t, c)
		if dm.From != "alice" || dm.Text != "hi bob" {
			t.Fatalf("%s got %+v", who, dm.DM)
		}
	}
	_, err := alice.DM(servertest.Context(t), "nobody", "hello?")
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != protocol.CodeUnknownUser {
		t.Fatalf("DM to a user connected nowhere: %v, want %s", err, protocol.CodeUnknownUser)
	}
}

// TestReadPositionMovesOnEveryDevice marks a room read on one node: the
// user's connection on another node is told.
func TestReadPositionMovesOnEveryDevice(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	token := registerOn(t, nodes[0], "carol", "correct horse battery")
	phone := dialRaw(t, nodes[0], "", token)
	laptop := dialRaw(t, nodes[1], "", token)
	phone.must("welcome")
	laptop.must("welcome")
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	phone.send(protocol.Request{Type: "join", ID: "j", Room: "news"})
	phone.must("ack")
	if _, err := publish(t, nodes[1], "news", "headline", ""); err != nil {
		t.Fatal(err)
	}
	phone.send(protocol.Request{Type: "read", ID: "r", Room: "news", Seq: 1})
	phone.must("ack")
	ev := laptop.must("read")
	if ev["room"] != "news" || ev["seq"] != float64(1) {
		t.Fatalf("the other device got %v, want news read up to 1", ev)
	}
}

// TestLogoutClosesConnectionsOnEveryNode logs a token out through one
// node: its connections on the others close with 4001 too.
func TestLogoutClosesConnectionsOnEveryNode(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	token := registerOn(t, nodes[0], "dave", "correct horse battery")
	here := dialRaw(t, nodes[0], "", token)
	there := dialRaw(t, nodes[1], "", token)
	here.must("welcome")
	there.must("welcome")
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	if status := post(t, nodes[0], "/api/logout", token, nil); status != http.StatusNoContent {
		t.Fatalf("logout: %d", status)
	}
	for who, c := range map[string]*raw{"on the node logged out at": here, "on another node": there} {
		_, err := c.next("never")
		if code := websocket.CloseStatus(err); int(code) != int(protocol.CloseUnauthorized) {
			t.Fatalf("connection %s: %v, want close %d", who, err, protocol.CloseUnauthorized)
		}
	}
}

// registerOn creates an account through n's API and returns its token.
func registerOn(t *testing.T, n *node, name, password string) string {
	t.Helper()
	var reply struct {
		Token string `json:"token"`
	}
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	resp, err := http.Post("http://"+n.srv.Addr+"/api/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register %s: %s", name, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		t.Fatal(err)
	}
	return reply.Token
}

// post sends an API request with a bearer token and returns the status.
func post(t *testing.T, n *node, path, token string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, "http://"+n.srv.Addr+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPasswordChangeClosesConnectionsOnEveryNode changes a password
// through one node: the user's connections on another close with 4001.
func TestPasswordChangeClosesConnectionsOnEveryNode(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	token := registerOn(t, nodes[0], "erin", "correct horse battery")
	there := dialRaw(t, nodes[1], "", token)
	there.must("welcome")
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	if status := post(t, nodes[0], "/api/password", token,
		map[string]string{"password": "correct horse battery", "new_password": "staple battery horse"}); status != http.StatusOK {
		t.Fatalf("password change: %d", status)
	}
	_, err := there.next("never")
	if code := websocket.CloseStatus(err); int(code) != int(protocol.CloseUnauthorized) {
		t.Fatalf("connection on another node: %v, want close %d", err, protocol.CloseUnauthorized)
	}
}

// TestRemovalFromAPrivateRoomReachesEveryNode has a room's owner on one
// node remove a member connected to another: that connection is taken out
// of the room at once.
func TestRemovalFromAPrivateRoomReachesEveryNode(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	owner := dialRaw(t, nodes[0], "", registerOn(t, nodes[0], "frank", "correct horse battery"))
	member := dialRaw(t, nodes[1], "", registerOn(t, nodes[1], "grace", "correct horse battery"))
	owner.must("welcome")
	member.must("welcome")
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	for _, req := range []protocol.Request{
		{Type: "create", ID: "c", Room: "secret", Private: true},
		{Type: "invite", ID: "i", Room: "secret", To: "grace"},
	} {
		owner.send(req)
		if ack := owner.must("ack"); ack["id"] != req.ID {
			t.Fatalf("%s: %v", req.Type, ack)
		}
	}
	member.send(protocol.Request{Type: "join", ID: "j", Room: "secret"})
	member.must("ack")
	owner.send(protocol.Request{Type: "remove", ID: "r", Room: "secret", To: "grace"})
	owner.must("ack")
	ev := member.must("removed")
	if ev["room"] != "secret" || ev["by"] != "frank" {
		t.Fatalf("the member got %v, want removed from secret by frank", ev)
	}
}
