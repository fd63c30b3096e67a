package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// searchVocabulary is the number of distinct words of the benchmark's
// texts, drawn with a Zipf distribution as words of real text are: a few
// occur in most messages, most in very few.
const searchVocabulary = 20000

// benchWord is the word of rank i (0 the most frequent): made-up, so that
// every store tokenizes it alike, and long enough that prefixes are
// selective.
func benchWord(i uint64) string {
	return "w" + strconv.FormatUint(i*7919%1000003, 36)
}

// envInt is the integer in the environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// BenchSearch is the body of the adapters' BenchmarkSearch: it stores
// CHATD_BENCH_SEARCH_MESSAGES messages (default 1,000,000) in
// CHATD_BENCH_SEARCH_ROOMS rooms (default 1,000) with Append in large
// batches, then times b.N searches, a mix of the kinds a user makes,
// while another goroutine appends CHATD_BENCH_SEARCH_RATE messages a
// second (default 200) in batches every 50 ms, as a server under that load
// would. It reports the latency percentiles of all searches (p50-ms,
// p99-ms, max-ms) and the p99 of each kind; run it with -benchtime=Nx.
func BenchSearch(b *testing.B, open func(b *testing.B) store.Store) {
	total := envInt(b, "CHATD_BENCH_SEARCH_MESSAGES", 1000000)
	rooms := envInt(b, "CHATD_BENCH_SEARCH_ROOMS", 1000)
	rate := envInt(b, "CHATD_BENCH_SEARCH_RATE", 200)
	st0 := open(b)
	defer st0.Close()
	st, ok := st0.(store.Searcher)
	if !ok {
		b.Skip("the store has no full-text search")
	}
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rnd, 1.1, 1, searchVocabulary-1)
	seqs := make([]uint64, rooms)
	// The messages span the last 30 days, oldest first, as a server
	// stores them.
	start := time.Now().Add(-30 * 24 * time.Hour)
	step := 30 * 24 * time.Hour / time.Duration(total)
	text := func() string {
		n := 4 + rnd.IntN(12)
		var sb strings.Builder
		for i := range n {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(benchWord(zipf.Uint64()))
		}
		return sb.String()
	}
	msg := func(i int, at time.Time) store.Message {
		r := rnd.IntN(rooms)
		seqs[r]++
		return store.Message{Room: fmt.Sprintf("room-%d", r), Seq: seqs[r], From: fmt.Sprintf("user-%d", rnd.IntN(5000)), Text: text(), Time: at}
	}
	began := time.Now()
	batch := make([]store.Message, 0, 10000)
	for i := range total {
		batch = append(batch, msg(i, start.Add(time.Duration(i)*step)))
		if len(batch) == cap(batch) || i == total-1 {
			if err := st.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Logf("stored %d messages in %d rooms in %v", total, rooms, time.Since(began).Round(time.Second))

	// The appender owns rnd and seqs from here on; the searches get their
	// own source.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var appendErr error
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		per := max(1, rate/20)
		i := total
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			live := make([]store.Message, per)
			for j := range live {
				live[j] = msg(i, time.Now())
				i++
			}
			if err := st.Append(ctx, live); err != nil {
				appendErr = err
				return
			}
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
		if appendErr != nil {
			b.Fatalf("appending while searching: %v", appendErr)
		}
	}()

	qr := rand.New(rand.NewPCG(3, 4))
	kinds := []struct {
		name string
		q    func() store.SearchQuery
	}{
		// A word in about 1 message in 10,000, in 1 to 3 in 100, in most.
		{"rare", func() store.SearchQuery { return sq(benchWord(uint64(2000 + qr.IntN(15000)))) }},
		{"medium", func() store.SearchQuery { return sq(benchWord(uint64(30 + qr.IntN(100)))) }},
		{"common", func() store.SearchQuery { return sq(benchWord(uint64(qr.IntN(10)))) }},
		{"two-words", func() store.SearchQuery {
			return sq(benchWord(uint64(qr.IntN(30))) + " " + benchWord(uint64(30+qr.IntN(300))))
		}},
		{"prefix", func() store.SearchQuery {
			w := benchWord(uint64(100 + qr.IntN(1000)))
			q := sq(w[:len(w)-1])
			q.Prefix = true
			return q
		}},
		{"room", func() store.SearchQuery {
			q := sq(benchWord(uint64(qr.IntN(100))))
			q.Room = fmt.Sprintf("room-%d", qr.IntN(rooms))
			return q
		}},
		{"author", func() store.SearchQuery {
			q := sq(benchWord(uint64(qr.IntN(100))))
			q.From = fmt.Sprintf("user-%d", qr.IntN(5000))
			return q
		}},
		{"last-week", func() store.SearchQuery {
			q := sq(benchWord(uint64(30 + qr.IntN(300))))
			q.After = time.Now().Add(-7 * 24 * time.Hour)
			return q
		}},
		{"best-medium", func() store.SearchQuery {
			q := sq(benchWord(uint64(30 + qr.IntN(100))))
			q.Order = store.SearchBest
			return q
		}},
		{"best-rare", func() store.SearchQuery {
			q := sq(benchWord(uint64(300 + qr.IntN(15000))))
			q.Order = store.SearchBest
			return q
		}},
	}
	var all []time.Duration
	byKind := make([][]time.Duration, len(kinds))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(kinds)
		q := kinds[k].q()
		t0 := time.Now()
		if _, err := st.Search(ctx, q); err != nil {
			b.Fatalf("search %+v: %v", q, err)
		}
		d := time.Since(t0)
		all = append(all, d)
		byKind[k] = append(byKind[k], d)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(all, 100)), "max-ms")
	for k, ds := range byKind {
		if len(ds) > 0 {
			b.ReportMetric(ms(percentile(ds, 99)), kinds[k].name+"-p99-ms")
		}
	}
}

// sq is a newest-first search for q, a page of 20 as the server asks.
func sq(q string) store.SearchQuery {
	return store.SearchQuery{Words: store.SearchWords(q), Limit: 21}
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}
