package client_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestSearchAndAround: Search pages through the hits newest first with
// its filters, and Around opens a hit in its room.
func TestSearchAndAround(t *testing.T) {
	st := servertest.SQLite(t)
	ts := servertest.Start(t, server.Config{Store: st})
	c := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"r", "s"}})
	for i := 1; i <= 9; i++ {
		text := fmt.Sprint("chatter ", i)
		if i%4 == 0 {
			text = fmt.Sprint("the Answer is ", i)
		}
		if _, err := c.Send(servertest.Context(t), "r", text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Send(servertest.Context(t), "s", "another answer"); err != nil {
		t.Fatal(err)
	}
	var got []string
	s := client.Search{Q: "answer", Limit: 1}
	for range 10 {
		p, err := c.Search(servertest.Context(t), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range p.Hits {
			got = append(got, fmt.Sprintf("%s/%d", h.Room, h.Seq))
			if len(h.Marks) != 1 {
				t.Errorf("hit %+v: want one mark", h)
			}
		}
		if p.Next == "" {
			break
		}
		s.Cursor = p.Next
	}
	if fmt.Sprint(got) != "[s/1 r/8 r/4]" {
		t.Fatalf("hits %v; want s/1 r/8 r/4", got)
	}
	p, err := c.Search(servertest.Context(t), client.Search{Q: "answer", Room: "r", Best: true, Before: time.Now().Add(time.Hour)})
	if err != nil || len(p.Hits) != 2 || p.Next != "" {
		t.Fatalf("search in r: %+v, %v", p, err)
	}
	msgs, more, err := c.Around(servertest.Context(t), "r", 4, 3)
	if err != nil || len(msgs) != 3 || msgs[0].Seq != 3 || msgs[1].Text != "the Answer is 4" || !more {
		t.Fatalf("around 4: %+v, more %v, %v", msgs, more, err)
	}
}
