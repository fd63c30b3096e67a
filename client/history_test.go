package client_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestHistory(t *testing.T) {
	st := servertest.SQLite(t)
	ts := servertest.Start(t, server.Config{Store: st})
	c := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"r"}})
	for i := 1; i <= 5; i++ {
		if _, err := c.Send(servertest.Context(t), "r", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	msgs, more, err := c.History(servertest.Context(t), "r", 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[0].Text != "3" || msgs[2].Text != "5" || !more {
		t.Fatalf("newest page %+v more=%v", msgs, more)
	}
	msgs, more, err = c.History(servertest.Context(t), "r", msgs[0].Seq, 10)
	if err != nil || len(msgs) != 2 || msgs[0].Text != "1" || more {
		t.Fatalf("older page %+v more=%v err=%v", msgs, more, err)
	}
}
