package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
)

func TestADatabaseCorruptInTheMiddleIsRefusedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []store.Message
	for i := range 3000 {
		msgs = append(msgs, store.Message{Room: fmt.Sprintf("r%d", i%10), Seq: uint64(i/10 + 1), From: "alice",
			Text: strings.Repeat("x", 200), Time: time.Now()})
	}
	if err := s.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	// Closing the last connection checkpoints the log into the file.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if fi.Size() < 20*page {
		t.Fatalf("the database has only %d bytes", fi.Size())
	}
	middle := fi.Size() / 2 / page * page
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, page), middle); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("a corrupt database was opened")
	}
	if !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open: %v, want an error that names the file and says it is corrupt", err)
	}
}
