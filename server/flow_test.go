package server_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// A close queued while accepted messages wait for the store goes out after
// their acks, not before.
func TestAcksOfAcceptedMessagesPrecedeAClose(t *testing.T) {
	st := holdAppends(t, "r")
	ts := servertest.Start(t, server.Config{Store: st, SendRate: -1})
	t.Cleanup(st.release)
	a := dialJSON(t, ts, "room=r&name=a")
	const sends = 5
	for i := range sends {
		a.send(fmt.Sprintf(`{"type":"send","id":"s%d","room":"r","text":"%d"}`, i, i))
	}
	for range 20 { // refused in a row: the connection is to be closed with 1008
		a.send(`{"type":"nonsense"}`)
	}
	for range 20 {
		if ev := a.event(); ev["code"] != "unknown_type" {
			t.Fatalf("want the refusals first, got %v", ev)
		}
	}
	st.release()
	for i := range sends {
		if ev := a.event(); ev["type"] != "ack" || ev["id"] != fmt.Sprintf("s%d", i) {
			t.Fatalf("want the ack of send s%d before the close, got %v", i, ev)
		}
	}
	a.expectClose(websocket.StatusPolicyViolation, "too many refused requests")
}

// A client that bursts past the send rate is told when to come back, is
// not closed for it, and gets an ack for every message accepted.
func TestRateLimitedSendsSayWhenToRetryAndDoNotCloseTheConnection(t *testing.T) {
	// One message a second: the bucket refills so slowly that the split of
	// 40 accepted and 40 limited holds however long a busy machine takes
	// to read the 80 sends.
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: 1, SendBurst: 40})
	a := dialJSON(t, ts, "room=r&name=a")
	const sends = 80
	for i := range sends {
		a.send(fmt.Sprintf(`{"type":"send","id":"%d","room":"r","text":"%d","client_msg_id":"m%d"}`, i, i, i))
	}
	acks, limited := 0, 0
	var retry float64
	for range sends {
		ev := a.event()
		switch {
		case ev["type"] == "ack":
			acks++
		case ev["code"] == "rate_limited":
			limited++
			if ms, _ := ev["retry_after_ms"].(float64); ms <= 0 {
				t.Fatalf("rate_limited without retry_after_ms: %v", ev)
			} else {
				retry = ms
			}
		default:
			t.Fatalf("reply %v", ev)
		}
	}
	if acks < 40 || limited < 20 {
		t.Fatalf("%d acks and %d rate_limited of %d sends; want the burst accepted and the rest limited", acks, limited, sends)
	}
	// Still open, and a send after retry_after_ms is accepted.
	time.Sleep(time.Duration(retry) * time.Millisecond)
	if ack := a.do(`{"type":"send","room":"r","text":"later"}`); ack["seq"] != float64(acks+1) {
		t.Fatalf("send after retry_after_ms: %v", ack)
	}
}

// With no send rate limit, the welcome announces none: no rate and no burst.
func TestWelcomeAnnouncesNoBurstWithoutASendRate(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: -1})
	a := dialJSON(t, ts, "name=a")
	b, _ := json.Marshal(a.welcome["limits"])
	var lim struct {
		Rate  *float64 `json:"send_rate"`
		Burst *int     `json:"send_burst"`
	}
	if err := json.Unmarshal(b, &lim); err != nil || lim.Rate == nil || lim.Burst == nil || *lim.Rate != 0 || *lim.Burst != 0 {
		t.Fatalf("welcome limits %s, want send_rate 0 and send_burst 0", b)
	}
}
