package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat. It is 100 on every Linux architecture Go supports
// (getconf CLK_TCK); reading it for real needs sysconf(3), i.e. cgo.
const clockTicks = 100

// procCPU returns the CPU time (user + system) that process pid has used so
// far, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself: the fields that follow start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	// After ") " come field 3 (state) onwards; utime and stime are fields
	// 14 and 15, i.e. indexes 11 and 12 here.
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// procRSS returns the resident set size of process pid in bytes, from VmRSS in
// /proc/PID/status.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		v, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(v)
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// selfCPU returns the CPU time (user + system) used by this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfMaxRSS returns the peak resident set size of this process in bytes.
func selfMaxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024 // Linux reports kilobytes.
}

// cpuMeter measures the CPU use of this process and, when pid != 0, of the
// server process over an interval.
type cpuMeter struct {
	pid       int
	wall      time.Time
	self, srv time.Duration
	srvErr    error
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{pid: pid, wall: time.Now(), self: selfCPU()}
	if pid != 0 {
		m.srv, m.srvErr = procCPU(pid)
	}
	return m
}

// stop returns the CPU use since start as percent of one core, for this
// process and for the server (nil when there is no pid or it could not be
// read).
func (m cpuMeter) stop() (self float64, srv *float64, err error) {
	wall := time.Since(m.wall)
	if wall <= 0 {
		return 0, nil, nil
	}
	self = pct(selfCPU()-m.self, wall)
	if m.pid == 0 {
		return self, nil, nil
	}
	if m.srvErr != nil {
		return self, nil, m.srvErr
	}
	now, err := procCPU(m.pid)
	if err != nil {
		return self, nil, err
	}
	v := pct(now-m.srv, wall)
	return self, &v, nil
}

// serverSeconds returns the server's CPU time since start, or nil when
// there is no server process or it could not be read.
func (m cpuMeter) serverSeconds() *float64 {
	if m.pid == 0 || m.srvErr != nil {
		return nil
	}
	now, err := procCPU(m.pid)
	if err != nil {
		return nil
	}
	v := (now - m.srv).Seconds()
	return &v
}

// stopInto stops m and writes the CPU use into res: a server figure that
// could not be read leaves ServerCPU nil and says why in ServerProcErr.
func (m cpuMeter) stopInto(res *Result) {
	self, srv, err := m.stop()
	if err != nil {
		res.ServerProcErr = err.Error()
	}
	res.ClientCPU = self
	res.ServerCPU = srv
}

// recordServerRSS writes the server's resident memory into res when there
// is a server process to read it from; unreadable, it stays nil.
func recordServerRSS(pid int, res *Result) {
	if pid == 0 {
		return
	}
	if rss, err := procRSS(pid); err == nil {
		res.ServerRSS = &rss
	}
}

func pct(cpu, wall time.Duration) float64 {
	return float64(cpu) / float64(wall) * 100
}
