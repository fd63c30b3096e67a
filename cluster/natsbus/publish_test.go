package natsbus_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
)

type published struct {
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

// publish posts text to room through n's publish API.
func publish(t *testing.T, n *node, room, text, clientMsgID string) (published, error) {
	body, _ := json.Marshal(map[string]string{"text": text, "from": "bot", "client_msg_id": clientMsgID})
	req, err := http.NewRequestWithContext(servertest.Context(t), http.MethodPost,
		"http://"+n.srv.Addr+"/api/rooms/"+room+"/messages", bytes.NewReader(body))
	if err != nil {
		return published{}, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return published{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return published{}, fmt.Errorf("publish: %s", resp.Status)
	}
	var p published
	return p, json.NewDecoder(resp.Body).Decode(&p)
}

// TestRepeatedClientMsgIDIsOneMessageClusterWide posts every message to two
// nodes' publish APIs at once with the same client_msg_id, as a client
// retrying on another node after a failover may: each is stored once, both
// answers carry its number, one of them as a duplicate, and a third node's
// members receive it once.
func TestRepeatedClientMsgIDIsOneMessageClusterWide(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room, ids = "retries", 25
	r := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "reader", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	s := &sent{text: make(map[uint64]string)}
	for i := range ids {
		id, text := fmt.Sprintf("id-%d", i), fmt.Sprintf("message %d", i)
		var answers [2]published
		var errs [2]error
		var wg sync.WaitGroup
		for k := range 2 {
			wg.Go(func() { answers[k], errs[k] = publish(t, nodes[k], room, text, id) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		a, b := answers[0], answers[1]
		if a.Seq != b.Seq || a.Duplicate == b.Duplicate {
			t.Fatalf("%s posted to two nodes: answers %+v and %+v, want one seq, one duplicate", id, a, b)
		}
		s.text[a.Seq] = text
	}
	expectSequence(t, "reader on the third node", r, room, s, ids)
}
