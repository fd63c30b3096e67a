package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// BenchmarkAppendNumberedOneRoom is a cluster's writers on one room: each
// writer is a Store of its own, as each node is, appending batches to the
// same room with AppendNumbered, whose counter row serialises them. It
// reports the room's messages per second and how long each batch took,
// waiting for the row included.
func BenchmarkAppendNumberedOneRoom(b *testing.B) {
	for _, writers := range []int{1, 3} {
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("writers=%d/batch=%d", writers, batch), func(b *testing.B) {
				dsn, _ := newSchema(b)
				stores := make([]store.Sequencer, writers)
				for i := range stores {
					s := open(b, dsn)
					b.Cleanup(func() { s.Close() })
					stores[i] = s
				}
				text := strings.Repeat("x", 64)
				var next atomic.Int64
				var busy atomic.Int64 // ns spent in AppendNumbered, all writers
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for _, s := range stores {
					wg.Go(func() {
						msgs := make([]store.Message, batch)
						for next.Add(1) <= int64(b.N) {
							for i := range msgs {
								msgs[i] = store.Message{Room: "bench", From: "w", Text: text, Time: time.Now()}
							}
							t := time.Now()
							if _, err := s.AppendNumbered(context.Background(), msgs); err != nil {
								b.Error(err)
								return
							}
							busy.Add(int64(time.Since(t)))
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "msgs/s")
				b.ReportMetric(float64(busy.Load())/float64(b.N)/1e6, "ms/batch")
			})
		}
	}
}
