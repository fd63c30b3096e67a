package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/gobwas/ws"
)

// TestJSONReceiveAllocs checks that reading JSON events allocates nothing
// once a receiver's buffers are grown.
func TestJSONReceiveAllocs(t *testing.T) {
	r := &run{cfg: Config{Size: 64}, tag: 12345, json: true, senders: make([]senderState, 2), sampleCap: 1 << 20}
	r.probe = fmt.Appendf(nil, "chatbench probe %d ", r.tag)
	r.mStart.Store(0)
	r.mEnd.Store(math.MaxInt64)
	r.senders[1].firstMeasured.Store(1)
	c := &client{r: r, lastSeq: make([]int64, 2), recv: make([]int64, 2), room: []byte("bench")}
	c.senderID.Store(1)
	c.samples = make([]int64, 0, 1024)
	seq := int64(0)
	frame := func() []byte {
		seq++
		text := appendMsg(nil, 0, seq, 1e18, r.tag, 64)
		return fmt.Appendf(nil, `{"type":"message","room":"bench","seq":%d,"from":"guest-12","ts":"2026-11-26T02:00:00.123Z","text":"%s"}`+"\n"+
			`{"type":"presence_diff","room":"bench","joins":["guest-9"],"users":2}`+"\n"+
			`{"type":"ack","request":"send","room":"bench","seq":%d,"ts":"2026-11-26T02:00:00.123Z"}`+"\n"+
			`{"type":"welcome","protocol":"chatd.v1","name":"guest-12","session":"x","limits":{}}`, seq, text, seq)
	}
	frames := make([][]byte, 200)
	for i := range frames {
		frames[i] = frame()
	}
	i := 0
	allocs := testing.AllocsPerRun(len(frames)-1, func() {
		c.handle(frames[i], 1e18+1000)
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
	if c.st.delivered != int64(len(frames)) || c.st.acks != int64(len(frames)) || c.st.other != 0 {
		t.Errorf("delivered %d acks %d other %d, want %d, %d, 0",
			c.st.delivered, c.st.acks, c.st.other, len(frames), len(frames))
	}
}

// BenchmarkHandle is a receiver's work for one delivered message, as a
// plain line and as a JSON message event, so that the tool's own share of
// the JSON protocol's cost can be told from the server's.
func BenchmarkHandle(b *testing.B) {
	for _, json := range []bool{false, true} {
		name := "plain"
		if json {
			name = "json"
		}
		b.Run(name, func(b *testing.B) {
			r := &run{cfg: Config{Size: 64}, tag: 12345, json: json, senders: make([]senderState, 2), sampleCap: 1 << 20}
			r.probe = fmt.Appendf(nil, "chatbench probe %d ", r.tag)
			r.mStart.Store(0)
			r.mEnd.Store(math.MaxInt64)
			c := &client{r: r, lastSeq: make([]int64, 2), recv: make([]int64, 2), room: []byte("bench")}
			c.samples = make([]int64, 0, 1<<20)
			frames := make([][]byte, 1024)
			for i := range frames {
				text := appendMsg(nil, 1, int64(i+1), 1e18, r.tag, 64)
				frames[i] = text
				if json {
					frames[i] = fmt.Appendf(nil, `{"type":"message","room":"bench","seq":%d,"from":"guest-12","ts":1795842149182,"text":"%s"}`, i+1, text)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if i%len(frames) == 0 {
					clear(c.lastSeq)
					c.samples = c.samples[:0]
				}
				c.handle(frames[i%len(frames)], 1e18+1000)
			}
		})
	}
}

func TestEventFields(t *testing.T) {
	for _, tc := range []struct {
		ev, typ, text string
		ok            bool
	}{
		{`{"type":"message","room":"r","seq":1,"from":"a","ts":1,"text":"hi there"}`, "message", "hi there", true},
		{`{"type":"message","room":"r","seq":1,"from":"a","ts":1,"text":"hi","client_msg_id":"c1"}`, "message", "hi", true},
		{`{"room":"r","type":"message","text":"moved"}`, "message", "moved", true},
		{`{"type":"message","room":"r","text":""}`, "message", "", true},
		{`{"type":"ack","request":"send"}`, "ack", "", false},
	} {
		typ, ok := eventType([]byte(tc.ev))
		if !ok || string(typ) != tc.typ {
			t.Errorf("eventType(%s) = %q, %v; want %q", tc.ev, typ, ok, tc.typ)
		}
		text, ok := messageText([]byte(tc.ev))
		if ok != tc.ok || string(text) != tc.text {
			t.Errorf("messageText(%s) = %q, %v; want %q, %v", tc.ev, text, ok, tc.text, tc.ok)
		}
	}
}

// chunkReader returns its data in reads of at most chunk bytes, as a
// socket returns what one write of the server put in it.
type chunkReader struct {
	data  []byte
	chunk int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data[:min(len(r.data), r.chunk, len(p))])
	r.data = r.data[n:]
	return n, nil
}

// BenchmarkReadFrames is a receiver's work per delivery from the bytes of
// the socket on, the reads themselves left out: 25 server frames a read,
// as chatd writes them in window mode, each a plain line or a JSON message
// event.
func BenchmarkReadFrames(b *testing.B) {
	for _, json := range []bool{false, true} {
		name := "plain"
		if json {
			name = "json"
		}
		b.Run(name, func(b *testing.B) {
			r := &run{cfg: Config{Size: 64}, tag: 12345, json: json, senders: make([]senderState, 2), sampleCap: 1 << 20}
			r.cfg.MaxMessage = 1 << 20
			r.probe = fmt.Appendf(nil, "chatbench probe %d ", r.tag)
			r.mStart.Store(0)
			r.mEnd.Store(math.MaxInt64)
			const frames = 4096
			var wire []byte
			write := 0
			for i := range frames {
				text := appendMsg(nil, 1, int64(i+1), 1e18, r.tag, 64)
				if json {
					text = fmt.Appendf(nil, `{"type":"message","room":"bench","seq":%d,"from":"guest-12","ts":1795842149182,"text":"%s"}`, i+1, text)
				}
				var h bytes.Buffer
				_ = ws.WriteHeader(&h, ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(text))})
				wire = append(append(wire, h.Bytes()...), text...)
				if i == 24 {
					write = len(wire)
				}
			}
			b.ResetTimer()
			for range b.N / frames {
				sr := &stampReader{r: &chunkReader{data: wire, chunk: write}}
				c := &client{r: r, lastSeq: make([]int64, 2), recv: make([]int64, 2), stamp: sr, room: []byte("bench"),
					br: bufio.NewReaderSize(sr, readBufferSize), samples: make([]int64, 0, frames)}
				if err := c.readFrames(); err != io.EOF {
					b.Fatal(err)
				}
				if c.st.delivered != frames {
					b.Fatalf("delivered %d of %d", c.st.delivered, frames)
				}
			}
		})
	}
}
