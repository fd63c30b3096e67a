package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// readBufferSize is the size of each connection's bufio.Reader. In window
// mode chatd writes a JSON receiver 20 to 30 events of about 160 bytes at
// once: with 4 KiB, taking one such write cost two or three reads, and the
// tool's reads are most of its CPU. It costs the tool 16 MiB per 1,000
// connections.
const readBufferSize = 16 << 10

// handshakeBufferSize is the read buffer of the WebSocket handshake.
const handshakeBufferSize = 4096

// client is one WebSocket connection of the run. Its reader goroutine owns the
// fields below "owned by the reader"; the others are shared.
type client struct {
	r    *run
	conn net.Conn
	br   *bufio.Reader
	// stamp is the reader under br; it knows when br last read the socket.
	stamp *stampReader
	done  chan struct{} // closed when the reader goroutine has returned

	wmu      sync.Mutex   // serialises writes of the sender and the reader
	closing  atomic.Bool  // the connection is ending: we or the reader started it
	dead     atomic.Bool  // the server ended the connection unexpectedly
	byServer atomic.Bool  // the reader saw the end before we started closing
	senderID atomic.Int32 // index among the senders, or -1
	ready    atomic.Bool  // a probe was received: the server broadcasts to us
	probes   atomic.Int64 // probes sent (JSON: the first answers are theirs)

	// Set at dial.
	group      int    // the room of the rooms scenario, else 0
	sLo        int    // the first sender of the group; lastSeq[k] is sender sLo+k's
	sendPrefix []byte // JSON: what comes before a text in a send request
	room       []byte // JSON: the room its message events must name

	// Owned by the reader.
	msg     []byte  // the message being read, reused
	lastSeq []int64 // per sender of the group: highest seq received
	recv    []int64 // per sender of the group: messages received
	st      recvStats
	samples []int64 // latency samples, ns
	seen    int64   // measured deliveries offered to samples
	rng     uint64
	// JSON mode.
	responses  int64             // acks and errors received
	firstErr   string            // the first error event, cut short
	firstErrAt int64             // when it came
	errCodes   map[string]*int64 // error events by code
	storm      stormStats
}

// recvStats are the counters of one receiver, merged at the end.
type recvStats struct {
	delivered, duplicates, outOfOrder, echoes, other int64
	acks, serverErrors                               int64
	maxLatency                                       int64
	// misrouted: messages and probes of this run from another group
	// (rooms: another room's sender).
	misrouted int64
}

// closeError is an unexpected close frame from the server.
type closeError struct {
	code   ws.StatusCode
	reason string
}

func (e closeError) Error() string {
	if e.code == 0 {
		return "closed by server (no status)"
	}
	if e.reason == "" {
		return fmt.Sprintf("closed by server: %d", e.code)
	}
	return fmt.Sprintf("closed by server: %d %s", e.code, e.reason)
}

var (
	errProtocol      = errors.New("protocol error")
	errNoSubprotocol = errors.New("the server did not select the subprotocol " + Subprotocol)
)

// netDialer returns the NetDial function for ws.Dialer: for loopback targets
// it binds connection i to source address 127.0.0.(1 + i%sources).
func netDialer(rawURL string, sources int) (func(i int) func(context.Context, string, string) (net.Conn, error), error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	rewrite := ""
	if host == "localhost" {
		// Pin to IPv4 loopback so that the 127.0.0.x sources fit.
		port := u.Port()
		if port == "" {
			port = "80"
		}
		rewrite = net.JoinHostPort("127.0.0.1", port)
	}
	ip := net.ParseIP(host)
	loop4 := rewrite != "" || (ip != nil && ip.To4() != nil && ip.IsLoopback())
	return func(i int) func(context.Context, string, string) (net.Conn, error) {
		var d net.Dialer
		if loop4 && sources > 0 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%sources))}
		}
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			if rewrite != "" {
				addr = rewrite
			}
			return d.DialContext(ctx, network, addr)
		}
	}, nil
}

// groupOf returns the group (room) of connection i.
func (r *run) groupOf(i int) int {
	if r.rooms {
		return i % len(r.groups)
	}
	return 0
}

// senderRange returns the senders whose messages group g receives:
// [lo, hi).
func (r *run) senderRange(g int) (lo, hi int) {
	if r.rooms {
		return g, g + 1
	}
	return 0, r.nSenders
}

// dial opens connection i and starts its reader goroutine.
func (r *run) dial(ctx context.Context, i int) (*client, error) {
	g := r.groupOf(i)
	grp := &r.groups[g]
	node := (i / len(r.groups)) % len(grp.urls)
	d := ws.Dialer{
		Timeout:        r.cfg.ConnectTimeout,
		NetDial:        r.netDial[node](i),
		ReadBufferSize: handshakeBufferSize,
	}
	if r.json && !r.centrifugo {
		d.Protocols = []string{Subprotocol}
	}
	conn, br, hs, err := d.Dial(ctx, grp.urls[node])
	if err != nil {
		return nil, err
	}
	if r.json && !r.centrifugo && hs.Protocol != Subprotocol {
		conn.Close()
		return nil, errNoSubprotocol
	}
	// Frames are stamped with the time of the read that brought them in,
	// so the clock is read once per read system call, not once per frame.
	sr := &stampReader{r: conn, ahead: br}
	lo, hi := r.senderRange(g)
	c := &client{
		r:          r,
		conn:       conn,
		br:         bufio.NewReaderSize(sr, readBufferSize),
		stamp:      sr,
		done:       make(chan struct{}),
		group:      g,
		sLo:        lo,
		sendPrefix: grp.sendPrefix,
		room:       grp.room,
		lastSeq:    make([]int64, hi-lo),
		// Sized once: growing it by appends cost the tool a tenth of its
		// CPU in zeroing and copying. Pages not written are not touched.
		samples: make([]int64, 0, r.sampleCap),
		recv:    make([]int64, hi-lo),
		rng:     uint64(i)*0x9e3779b97f4a7c15 | 1,
	}
	c.senderID.Store(-1)
	if grp.hello != nil {
		// Centrifugo answers the connect and subscribe once it reads
		// them, which the reader does from here on.
		if err := c.writeText(grp.hello); err != nil {
			conn.Close()
			return nil, fmt.Errorf("connect and subscribe: %w", err)
		}
	}
	grp.live.Add(1)
	r.dials.Add(1)
	storeMax(&r.peak, r.live.Add(1))
	r.readers.Add(1)
	go c.readLoop()
	return c, nil
}

func (c *client) readLoop() {
	defer c.r.readers.Done()
	defer close(c.done)
	err := c.readFrames()
	// Whoever sets closing first ends the connection: startClose, or this
	// reader when the server ended it first.
	if c.closing.CompareAndSwap(false, true) {
		c.byServer.Store(true)
		c.dead.Store(true)
		c.r.live.Add(-1)
		c.r.groups[c.group].live.Add(-1)
		c.writeOff()
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("connection closed by server without close frame")
		}
		c.r.errs.add("disconnect: ", err)
		c.r.disconnects.Add(1)
	}
	c.conn.Close()
}

// writeOff tells the window that this receiver will get nothing more: the
// deliveries that were expected from it and have not arrived are taken off
// each sender's outstanding count.
func (c *client) writeOff() {
	for k, n := range c.recv {
		ss := &c.r.senders[c.sLo+k]
		ss.expected.Add(-(ss.sent.Load() - n))
	}
}

// readFrames reads until the connection ends. It answers pings and close
// frames, joins fragmented messages and hands each data message to handle.
func (c *client) readFrames() error {
	hdr := make([]byte, 2, ws.MaxHeaderSize-2)
	var ctrl [ws.MaxControlFramePayloadSize]byte
	inMsg := false
	limit := int64(c.r.cfg.MaxMessage)
	for {
		if !inMsg {
			ok, err := c.bufferedFrame(limit)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
		}
		h, err := ws.ReadHeaderBuffer(c.br, hdr)
		if err != nil {
			return err
		}
		if h.Rsv != 0 {
			return fmt.Errorf("%w: reserved bits set", errProtocol)
		}
		if h.OpCode.IsControl() {
			if h.Length > ws.MaxControlFramePayloadSize || !h.Fin {
				return fmt.Errorf("%w: bad control frame", errProtocol)
			}
			p := ctrl[:h.Length]
			_, err := io.ReadFull(c.br, p)
			if err != nil {
				return err
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpPing:
				c.writeControl(ws.OpPong, p)
			case ws.OpClose:
				code, reason := ws.ParseCloseFrameData(p)
				if c.closing.Load() {
					return nil // the answer to our close
				}
				c.dead.Store(true) // no more data frames from the sender
				c.writeControl(ws.OpClose, p[:min(len(p), 2)])
				return closeError{code: code, reason: reason}
			}
			continue
		}
		switch {
		case h.OpCode == ws.OpContinuation && !inMsg,
			h.OpCode != ws.OpContinuation && inMsg,
			h.OpCode.IsReserved():
			return fmt.Errorf("%w: unexpected opcode %d", errProtocol, h.OpCode)
		}
		n := len(c.msg)
		if h.Length > limit-int64(n) {
			return fmt.Errorf("message larger than %d bytes", limit)
		}
		need := n + int(h.Length)
		if need > cap(c.msg) {
			m := make([]byte, n, max(need, 2*cap(c.msg)))
			copy(m, c.msg)
			c.msg = m
		}
		c.msg = c.msg[:need]
		p := c.msg[n:]
		_, err = io.ReadFull(c.br, p)
		if err != nil {
			return err
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		if !h.Fin {
			inMsg = true
			continue
		}
		inMsg = false
		c.handle(c.msg, c.stamp.at)
		c.msg = c.msg[:0]
	}
}

// handle accounts for one received message, which holds one or more lines
// (in JSON mode, events).
func (c *client) handle(msg []byte, now int64) {
	r := c.r
	mStart, mEnd := r.mStart.Load(), r.mEnd.Load()
	self := int64(c.senderID.Load())
	for len(msg) > 0 {
		var line []byte
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			line, msg = msg, nil
		}
		if len(line) == 0 {
			continue
		}
		if r.json {
			var isMsg bool
			if r.centrifugo {
				line, isMsg = c.centrifugoEvent(line, now)
			} else {
				line, isMsg = c.event(line, now)
			}
			if !isMsg {
				continue
			}
		}
		sid, seq, ts, ok := parseMsg(line, r.tag)
		if !ok {
			if p, isProbe := bytes.CutPrefix(line, r.probe); isProbe {
				g, _, ok := parseUint(p, 0)
				switch {
				case !ok || g != int64(c.group):
					c.st.misrouted++
				case !c.ready.Load():
					c.ready.Store(true)
				}
				continue
			}
			c.st.other++
			continue
		}
		k := sid - int64(c.sLo)
		if k < 0 || k >= int64(len(c.lastSeq)) {
			if sid < int64(len(r.senders)) {
				c.st.misrouted++
			} else {
				c.st.other++
			}
			continue
		}
		if sid == self {
			c.st.echoes++
			continue
		}
		measured := ts >= mStart && ts < mEnd
		last := c.lastSeq[k]
		switch {
		case seq == last:
			if measured {
				c.st.duplicates++
			}
			continue
		case seq < last:
			if measured {
				c.st.outOfOrder++
			}
		default:
			c.lastSeq[k] = seq
		}
		c.recv[k]++
		r.senders[sid].delivered.Add(1)
		if measured {
			c.st.delivered++
			c.sample(max(now-ts, 0))
			if r.storm.during(ts) {
				c.sampleStorm(max(now-ts, 0))
			}
		}
	}
}

// sample keeps latency lat (ns): every one up to the receiver's share of
// MaxSamples, then a uniform random sample of them (reservoir sampling).
func (c *client) sample(lat int64) {
	if lat > c.st.maxLatency {
		c.st.maxLatency = lat
	}
	c.seen++
	c.samples = keepSample(c.samples, c.seen, &c.rng, c.r.sampleCap, lat)
}

// keepSample adds v, the seen-th value offered, to samples: every one up to
// limit, then each with probability limit/seen in place of a random one
// (reservoir sampling). rng is the state of a xorshift64* generator, not 0.
func keepSample(samples []int64, seen int64, rng *uint64, limit int, v int64) []int64 {
	if len(samples) < limit {
		return append(samples, v)
	}
	x := *rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*rng = x
	j := (x * 2685821657736338717) % uint64(seen)
	if j < uint64(limit) {
		samples[j] = v
	}
	return samples
}

// parseMsg parses "<sender> <seq> <unixnano> <tag>" followed by anything but
// a digit; ok is false unless the line has that form and the run's tag.
func parseMsg(b []byte, tag int64) (sid, seq, ts int64, ok bool) {
	i := 0
	if sid, i, ok = parseUint(b, i); !ok || i >= len(b) || b[i] != ' ' {
		return 0, 0, 0, false
	}
	if seq, i, ok = parseUint(b, i+1); !ok || i >= len(b) || b[i] != ' ' {
		return 0, 0, 0, false
	}
	if ts, i, ok = parseUint(b, i+1); !ok || i >= len(b) || b[i] != ' ' {
		return 0, 0, 0, false
	}
	t, _, ok := parseUint(b, i+1)
	if !ok || t != tag {
		return 0, 0, 0, false
	}
	return sid, seq, ts, true
}

// appendMsg appends the payload of message seq of sender sid sent at ts in
// the run tagged tag, padded with 'x' to size bytes.
func appendMsg(b []byte, sid int, seq, ts, tag int64, size int) []byte {
	start := len(b)
	b = strconv.AppendInt(b, int64(sid), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, tag, 10)
	for len(b)-start < size {
		b = append(b, 'x')
	}
	return b
}

// putHeader writes a masked client frame header for a payload of n bytes
// into the end of dst and returns where it starts.
func putHeader(dst []byte, op ws.OpCode, n int, mask [4]byte) int {
	var hs int
	switch {
	case n < 126:
		hs = 6
	case n <= math.MaxUint16:
		hs = 8
	default:
		hs = 14
	}
	h := dst[len(dst)-hs:]
	h[0] = 0x80 | byte(op)
	switch hs {
	case 6:
		h[1] = 0x80 | byte(n)
	case 8:
		h[1] = 0x80 | 126
		binary.BigEndian.PutUint16(h[2:], uint16(n))
	default:
		h[1] = 0x80 | 127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
	copy(h[hs-4:], mask[:])
	return len(dst) - hs
}

// writeControl sends a frame with payload p of at most 125 bytes: a control
// frame, or a short text.
func (c *client) writeControl(op ws.OpCode, p []byte) {
	var buf [6 + ws.MaxControlFramePayloadSize]byte
	mask := ws.NewMask()
	start := putHeader(buf[:6], op, len(p), mask)
	n := copy(buf[6:], p)
	ws.Cipher(buf[6:6+n], mask, 0)
	// Control frames are best effort: a connection that cannot take one
	// fails its reader, which counts the error.
	c.wmu.Lock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.conn.Write(buf[start : 6+n])
	_ = c.conn.SetWriteDeadline(time.Time{})
	c.wmu.Unlock()
}

// startClose sends a close frame (normal closure) unless the connection is
// already over.
func (c *client) startClose() {
	if c.dead.Load() || c.closing.Swap(true) {
		return
	}
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], uint16(ws.StatusNormalClosure))
	c.writeControl(ws.OpClose, p[:])
}

// writeText sends text frame p of any size, with a deadline: for the
// probes.
func (c *client) writeText(p []byte) error {
	b := make([]byte, 14, 14+len(p))
	b = append(b, p...)
	mask := ws.NewMask()
	start := putHeader(b[:14], ws.OpText, len(p), mask)
	ws.Cipher(b[14:], mask, 0)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing.Load() || c.dead.Load() {
		return errConnOver
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	_, err := c.conn.Write(b[start:])
	_ = c.conn.SetWriteDeadline(time.Time{}) // fails only on a closed connection, which err reports
	return err
}

// sendProbe sends probe k of the client's group: "chatbench probe <tag>
// <group> <k>", in a send request in JSON mode.
func (c *client) sendProbe(k int) {
	r := c.r
	p := append([]byte(nil), c.sendPrefix...)
	p = append(p, r.probe...)
	p = strconv.AppendInt(p, int64(c.group), 10)
	p = append(p, ' ')
	p = strconv.AppendInt(p, int64(k), 10)
	p = append(p, r.sendSuffix...)
	c.probes.Add(1) // before the answer can come
	// A probe that cannot be written is never answered, and waitReady
	// counts the client as not ready.
	_ = c.writeText(p)
}

// sender builds and writes the text frames of one sender.
type sender struct {
	c    *client
	id   int
	size int
	seq  int64
	buf  []byte
}

func newSender(c *client, id, size int) *sender {
	r := c.r
	n := 14 + len(c.sendPrefix) + size + 64 + len(r.sendSuffix)
	return &sender{c: c, id: id, size: size, buf: make([]byte, 0, n)}
}

// send writes the next message, stamped with time now.
func (s *sender) send(now int64) error {
	s.seq++
	r := s.c.r
	b := append(s.buf[:14], s.c.sendPrefix...)
	b = appendMsg(b, s.id, s.seq, now, r.tag, s.size)
	b = append(b, r.sendSuffix...)
	s.buf = b[:0]
	p := b[14:]
	mask := ws.NewMask()
	start := putHeader(b[:14], ws.OpText, len(p), mask)
	ws.Cipher(p, mask, 0)
	c := s.c
	c.wmu.Lock()
	if c.closing.Load() || c.dead.Load() {
		c.wmu.Unlock()
		return errConnOver
	}
	_, err := c.conn.Write(b[start:])
	c.wmu.Unlock()
	return err
}

var errConnOver = errors.New("connection over")

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}
