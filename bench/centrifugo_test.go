package bench_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/bench"
)

// centrifugoCommands answers the commands of one frame as Centrifugo does:
// connect, subscribe (to the connection's room, whatever the channel) and
// publish, whose data goes to every subscriber, the publisher too, as a
// push. An empty object is the answer to the ping sent after connect.
func (h *hub) centrifugoCommands(c *hubConn, p []byte) {
	for line := range bytes.SplitSeq(p, []byte{'\n'}) {
		if string(line) == "{}" {
			h.pongs.Add(1)
			continue
		}
		var cmd struct {
			ID        int             `json:"id"`
			Connect   json.RawMessage `json:"connect"`
			Subscribe json.RawMessage `json:"subscribe"`
			Publish   *struct {
				Channel string          `json:"channel"`
				Data    json.RawMessage `json:"data"`
			} `json:"publish"`
		}
		if err := json.Unmarshal(line, &cmd); err != nil {
			c.writeFrame(ws.OpClose, true, ws.NewCloseFrameBody(3501, "bad request"))
			return
		}
		switch {
		case cmd.Connect != nil:
			c.writeFrame(ws.OpText, true, fmt.Appendf(nil, `{"id":%d,"connect":{"client":"c1","version":"6.0.0","ping":25,"pong":true}}`, cmd.ID))
			c.writeFrame(ws.OpText, true, []byte("{}"))
		case cmd.Subscribe != nil:
			c.subscribed.Store(true)
			c.writeFrame(ws.OpText, true, fmt.Appendf(nil, `{"id":%d,"subscribe":{}}`, cmd.ID))
		case cmd.Publish != nil && h.centrifugoErr != "":
			c.writeFrame(ws.OpText, true, fmt.Appendf(nil, `{"id":%d,"error":%s}`, cmd.ID, h.centrifugoErr))
		case cmd.Publish != nil:
			c.writeFrame(ws.OpText, true, fmt.Appendf(nil, `{"id":%d,"publish":{}}`, cmd.ID))
			ch, _ := json.Marshal(cmd.Publish.Channel)
			h.broadcast(c, fmt.Appendf(nil, `{"push":{"channel":%s,"pub":{"data":%s,"offset":1}}}`, ch, cmd.Publish.Data))
		}
	}
}

// TestCentrifugoFanout runs fanout and rooms in Centrifugo mode: every
// publication reaches every other subscriber, each publish is acknowledged,
// the sender's own publications count as echoes and the server's ping is
// answered.
func TestCentrifugoFanout(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  bench.Config
	}{
		{"fanout rate", bench.Config{Conns: 30, Senders: 3, Rate: 300}},
		{"fanout window", bench.Config{Conns: 30, Senders: 2, Window: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, true, false)
			h.centrifugo = true
			cfg := tc.cfg
			cfg.URL = h.url()
			cfg.Proto = bench.ProtoCentrifugo
			cfg.Duration = 500 * time.Millisecond
			res := run(t, cfg)
			checkClean(t, res)
			checkDelivered(t, res)
			if res.Acks != res.Sent {
				t.Errorf("acks = %d, want one per message sent (%d)", res.Acks, res.Sent)
			}
			if res.Echoes == 0 {
				t.Errorf("no echoes: the senders' own publications were not recognised")
			}
			if n := h.pongs.Load(); n != int64(res.Conns) {
				t.Errorf("%d pongs, want one per connection (%d)", n, res.Conns)
			}
			var out strings.Builder
			bench.FormatText(&out, res)
			if !strings.Contains(out.String(), "centrifugo (JSON), channel bench") ||
				!strings.Contains(out.String(), fmt.Sprintf("acks                 %d of %d sent", res.Acks, res.Sent)) {
				t.Errorf("the text report does not name the protocol or count the acks:\n%s", out.String())
			}
		})
	}
}

// TestCentrifugoPublishErrors counts a refused publish as a server error
// and not as an ack.
func TestCentrifugoPublishErrors(t *testing.T) {
	h := newHub(t, true, false)
	h.centrifugo = true
	h.centrifugoErr = `{"code":103,"message":"permission denied"}`
	res, err := bench.Run(t.Context(), bench.Config{
		URL: h.url(), Proto: bench.ProtoCentrifugo, Conns: 4, Rate: 50,
		Duration: 200 * time.Millisecond, Drain: 200 * time.Millisecond, ConnectTimeout: time.Second,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Acks != 0 || res.ServerErrors == 0 || res.Delivered != 0 {
		t.Errorf("acks %d, server errors %d, delivered %d: want no ack, errors, nothing delivered",
			res.Acks, res.ServerErrors, res.Delivered)
	}
	if res.ErrorDetail["server error: 103"] == 0 {
		t.Errorf("error detail %v, want the errors counted by their code, 103", res.ErrorDetail)
	}
}
