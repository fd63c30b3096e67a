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

// procStat is what /proc/PID/stat says of a process's CPU time (user +
// system) and parent.
type procStat struct {
	ppid int
	// cpu is the process's own time, children that of its children that
	// exited and were waited for.
	cpu, children time.Duration
}

// readProcStat reads /proc/PID/stat.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself: the fields that follow start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	// After ") " come field 3 (state) onwards: ppid is field 4, utime,
	// stime, cutime and cstime fields 14 to 17, i.e. indexes 1 and 11 to
	// 14 here.
	f := bytes.Fields(b[i+1:])
	if len(f) < 15 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	var v [5]int64
	for k, j := range []int{1, 11, 12, 13, 14} {
		if v[k], err = strconv.ParseInt(string(f[j]), 10, 64); err != nil {
			return procStat{}, errors.New("malformed /proc stat")
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return procStat{ppid: int(v[0]), cpu: tick(v[1] + v[2]), children: tick(v[3] + v[4])}, nil
}

// procCPU returns the CPU time (user + system) that process pid has used so
// far, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	st, err := readProcStat(pid)
	return st.cpu, err
}

// treeCPU returns the CPU time used so far by process root and all its
// descendants, those that exited included: each live process's own time
// plus that of its children that exited, which the kernel adds to the
// parent when it waits for them. A descendant that exits between two
// readings thus moves from one term to the other and is counted once.
func treeCPU(root int) (time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	stats := map[int]procStat{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil { // gone meanwhile
			stats[pid] = st
		}
	}
	if _, ok := stats[root]; !ok {
		return 0, fmt.Errorf("no process %d", root)
	}
	in := func(pid int) bool {
		for range len(stats) { // bounded: ppid links could change under us
			if pid == root {
				return true
			}
			st, ok := stats[pid]
			if !ok || st.ppid == pid {
				return false
			}
			pid = st.ppid
		}
		return false
	}
	var sum time.Duration
	for pid, st := range stats {
		if in(pid) {
			sum += st.cpu + st.children
		}
	}
	return sum, nil
}

// procs are the processes of the server under test, whose CPU time and
// memory are added up.
type procs struct {
	pids  []int // each process alone
	trees []int // each process with its descendants (CPU only)
}

func (p procs) none() bool { return len(p.pids) == 0 && len(p.trees) == 0 }

// cpu returns the CPU time they have used so far.
func (p procs) cpu() (time.Duration, error) {
	var sum time.Duration
	for _, pid := range p.pids {
		v, err := procCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	for _, pid := range p.trees {
		v, err := treeCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// rss returns the resident memory of p.pids, summed.
func (p procs) rss() (int64, error) {
	if len(p.pids) == 0 {
		return 0, errors.New("no process whose memory to read")
	}
	var sum int64
	for _, pid := range p.pids {
		v, err := procRSS(pid)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
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

// cpuMeter measures the CPU use of this process and, when there are any,
// of the server's processes over an interval.
type cpuMeter struct {
	procs     procs
	wall      time.Time
	self, srv time.Duration
	srvErr    error
}

func startCPU(p procs) cpuMeter {
	m := cpuMeter{procs: p, wall: time.Now(), self: selfCPU()}
	if !p.none() {
		m.srv, m.srvErr = p.cpu()
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
	if m.procs.none() {
		return self, nil, nil
	}
	if m.srvErr != nil {
		return self, nil, m.srvErr
	}
	now, err := m.procs.cpu()
	if err != nil {
		return self, nil, err
	}
	v := pct(now-m.srv, wall)
	return self, &v, nil
}

// serverSeconds returns the server's CPU time since start, or nil when
// there is no server process or it could not be read.
func (m cpuMeter) serverSeconds() *float64 {
	if m.procs.none() || m.srvErr != nil {
		return nil
	}
	now, err := m.procs.cpu()
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
func recordServerRSS(p procs, res *Result) {
	if len(p.pids) == 0 {
		return
	}
	if rss, err := p.rss(); err == nil {
		res.ServerRSS = &rss
	}
}

func pct(cpu, wall time.Duration) float64 {
	return float64(cpu) / float64(wall) * 100
}
