package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestAcknowledgedMessagesSurviveSIGKILL kills chatd with SIGKILL while four
// senders keep it busy, restarts it on the same database, and checks that
// every acknowledged message is there exactly once, in order, and that no
// message is half-written.
func TestAcknowledgedMessagesSurviveSIGKILL(t *testing.T) {
	bin := buildChatd(t)
	data := t.TempDir()
	url, cmd := startChatd(t, bin, "-store", "sqlite", "-data", data, "-send-rate", "0")

	const rooms, perRoom, window = 4, 800, 16
	var mu sync.Mutex
	ackedText := map[string]uint64{} // text -> seq, for every acknowledged send
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	load, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	for r := range rooms {
		room := fmt.Sprintf("crash%d", r)
		c, _, err := websocket.Dial(ctx, url+"?room="+room+"&name=s"+fmt.Sprint(r), &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		credit := make(chan struct{}, window)
		for range window {
			credit <- struct{}{}
		}
		wg.Go(func() { // reads acks until the connection dies
			for {
				_, p, err := c.Read(load)
				if err != nil {
					return
				}
				var ev struct {
					Type string
					ID   string
					Seq  uint64
				}
				if json.Unmarshal(p, &ev) == nil && ev.Type == "ack" && ev.ID != "" {
					mu.Lock()
					ackedText[ev.ID] = ev.Seq
					mu.Unlock()
					credit <- struct{}{}
				}
			}
		})
		wg.Go(func() { // sends with at most window unacknowledged
			for i := range perRoom {
				select {
				case <-credit:
				case <-load.Done():
					return
				}
				text := fmt.Sprintf("%s-%d", room, i)
				req := fmt.Sprintf(`{"type":"send","id":%q,"room":%q,"text":%q}`, text, room, text)
				if c.Write(load, websocket.MessageText, []byte(req)) != nil {
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	stopLoad() // the readers have seen the connection die; stop the senders
	wg.Wait()
	mu.Lock()
	nAcked := len(ackedText)
	mu.Unlock()
	if nAcked == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}

	url, _ = startChatd(t, bin, "-store", "sqlite", "-data", data)
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(4 << 20) // a page of 1000 messages
	found := 0
	for r := range rooms {
		room := fmt.Sprintf("crash%d", r)
		ack := jsonDo(t, ctx, c, fmt.Sprintf(`{"type":"history","room":%q,"limit":1000}`, room))
		raw, _ := json.Marshal(ack["messages"])
		var msgs []struct {
			Seq  uint64
			Text string
		}
		if err := json.Unmarshal(raw, &msgs); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, m := range msgs {
			if m.Seq != uint64(i+1) {
				t.Fatalf("%s: message %d has seq %d: a gap or reorder after the crash", room, i, m.Seq)
			}
			if seen[m.Text] {
				t.Fatalf("%s: %q stored twice", room, m.Text)
			}
			seen[m.Text] = true
			var want string
			if _, err := fmt.Sscanf(m.Text, room+"-%s", &want); err != nil {
				t.Fatalf("%s: half-written or foreign text %q", room, m.Text)
			}
		}
		mu.Lock()
		for text, seq := range ackedText {
			if len(text) > len(room) && text[:len(room)+1] == room+"-" {
				if !seen[text] || msgs[seq-1].Text != text {
					t.Errorf("%s: acknowledged %q (seq %d) is missing after the crash", room, text, seq)
				}
				found++
			}
		}
		mu.Unlock()
	}
	if found != nAcked {
		t.Fatalf("checked %d of %d acknowledged messages", found, nAcked)
	}
	t.Logf("%d messages acknowledged before SIGKILL, all present after restart", nAcked)
}
