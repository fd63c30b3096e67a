package server

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// poller watches the sockets of parked connections (conn_park.go) with an
// epoll set of its own, beside the Go runtime's, and starts a parked
// reader again when its socket has something to read, or when its read
// deadline has passed. Its goroutine is owned by the Server, which stops it
// with close once every reader has ended. Its methods are safe for
// concurrent use.
type poller struct {
	epfd  int
	stopR int // read end of the stop pipe, in the epoll set as token 0
	stopW int
	every time.Duration   // how often deadlines are checked
	stop  <-chan struct{} // closed by the server after close

	// mu guards conns: the connections whose sockets are in the set,
	// by id (the token of their epoll events; ids start at 1).
	mu    sync.Mutex
	conns map[uint64]*conn
}

// newPoller returns a poller that checks deadlines every interval, or nil
// and the error when the system refuses one (the readers then block as
// usual). stop is closed when the server stops, after close.
func newPoller(every time.Duration, stop <-chan struct{}) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("pipe2: %w", err)
	}
	p := &poller{epfd: epfd, stopR: fds[0], stopW: fds[1], every: every, stop: stop, conns: make(map[uint64]*conn)}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN} // token 0
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.stopR, &ev); err != nil {
		p.closeFDs()
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return p, nil
}

func (p *poller) closeFDs() {
	syscall.Close(p.epfd)
	syscall.Close(p.stopR)
	syscall.Close(p.stopW)
}

// close ends run; call it once, after the last reader has ended and
// before the server's stop channel is closed (run closes the pipe once it
// has read this byte, or after stop).
func (p *poller) close() {
	_, _ = syscall.Write(p.stopW, []byte{0})
}

// run waits for the parked sockets until close. The wait is a blocking
// system call, so it holds a thread, not a P.
func (p *poller) run() {
	defer p.closeFDs()
	events := make([]syscall.EpollEvent, 256)
	var due []*conn
	next := time.Now().Add(p.every)
	for {
		wait := max(time.Until(next), 0)
		n, err := syscall.EpollWait(p.epfd, events, int(wait.Milliseconds()))
		if err != nil && !errors.Is(err, syscall.EINTR) {
			// Not expected with a valid set; readers still parked are
			// started so that none is stranded, and no more park. The
			// descriptors stay open until the server stops, after close
			// has written to the pipe.
			p.fail()
			<-p.stop
			return
		}
		for _, ev := range events[:max(n, 0)] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				return
			}
			p.mu.Lock()
			c := p.conns[id]
			p.mu.Unlock()
			if c != nil {
				c.wake()
			}
		}
		if now := time.Now(); !now.Before(next) {
			due = p.expired(now, due[:0])
			for i, c := range due {
				c.wake()
				due[i] = nil
			}
			next = now.Add(p.every)
		}
	}
}

// expired appends the parked connections whose read deadline has passed.
func (p *poller) expired(now time.Time, dst []*conn) []*conn {
	t := now.UnixNano()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if c.parked() && c.readBy.Load() <= t {
			dst = append(dst, c)
		}
	}
	return dst
}

// fail wakes every parked reader; the conns map is then nil, so that arm
// refuses and nothing parks again.
func (p *poller) fail() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.wake()
	}
}

// readable reports whether a read of c's socket would not wait: it holds
// data or its end, or has failed. It peeks and never takes a byte.
func (p *poller) readable(c *conn) bool {
	ready := true
	err := c.out.raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ready = err != syscall.EAGAIN
		return true
	})
	return ready || err != nil
}

// arm asks for one event when c's socket has something to read, adding
// the socket to the set the first time. It reports false when the socket
// is closed or the poller has failed.
func (p *poller) arm(c *conn) bool {
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd:     int32(uint32(c.id)), Pad: int32(uint32(c.id >> 32)),
	}
	var err error
	cerr := c.out.raw.Control(func(fd uintptr) {
		// The runtime holds the descriptor open while this runs, so it
		// is c's socket and no other.
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
		if err != syscall.ENOENT {
			return
		}
		p.mu.Lock()
		if p.conns == nil {
			p.mu.Unlock()
			return
		}
		p.conns[c.id] = c
		p.mu.Unlock()
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	return cerr == nil && err == nil
}

// forget drops c, whose reader has ended. Its socket leaves the epoll set
// when it is closed.
func (p *poller) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
}
