package bench

import (
	"fmt"
	"math"
	"testing"
)

// TestJSONReceiveAllocs checks that reading JSON events allocates nothing
// once a receiver's buffers are grown.
func TestJSONReceiveAllocs(t *testing.T) {
	r := &run{tag: 12345, json: true, senders: make([]senderState, 2), sampleCap: 1 << 20}
	r.probe = fmt.Appendf(nil, "chatbench probe %d ", r.tag)
	r.mStart.Store(0)
	r.mEnd.Store(math.MaxInt64)
	r.senders[1].firstMeasured.Store(1)
	c := &client{r: r, lastSeq: make([]int64, 2), recv: make([]int64, 2)}
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
