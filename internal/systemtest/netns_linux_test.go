package systemtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// lab is a small network of Linux network namespaces that a test owns:
// one namespace per node, each reached from the test's own namespace over
// a veth pair of its own (its front: clients, and the test's forwarders),
// and a switch namespace whose bridge joins the nodes' second interfaces
// (their cluster network). Cutting a node takes its port on the bridge
// down: its cluster traffic stops, its front stays up.
//
// Everything it creates carries the run's name (chatd-lab-PID-RANDOM), and
// is removed when the test ends, failed or not; a run that was killed
// before its cleanup leaves namespaces that the next run removes. The only
// trace in the test's own namespace is the front veths, with addresses in
// 10.213.0.0/16, which go with their namespaces.
type lab struct {
	t     *testing.T
	name  string // chatd-lab-PID-RANDOM
	tag   string // RANDOM, in interface names
	sw    string // the switch namespace
	net   byte   // the fronts are in 10.213.net.0/24
	nodes []labNode
}

// labNode is one node's namespace and addresses.
type labNode struct {
	ns      string
	front   string     // the veth on the test's side
	host    netip.Addr // the test's address on front
	addr    netip.Addr // the node's address on front
	cluster netip.Addr // the node's address on the cluster network
}

const labPrefix = "chatd-lab-"

// needNetns skips the test where network namespaces cannot be made (not
// root, no ip command, no namespaces), and fails it there under CI=true.
func needNetns(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "no ip command (Debian: apt-get install iproute2)"
	} else if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		why = fmt.Sprintf("ip netns list: %v: %s", err, out)
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("network namespaces are unavailable (%s), and CI must run the tests that need them", why)
	}
	t.Skipf("network namespaces are unavailable: %s", why)
}

// newLab makes n node namespaces and the switch between them.
func newLab(t *testing.T, n int) *lab {
	t.Helper()
	needNetns(t)
	sweepLabs(t)
	var b [2]byte
	_, _ = rand.Read(b[:])
	l := &lab{t: t, tag: hex.EncodeToString(b[:])}
	l.name = fmt.Sprintf("%s%d-%s", labPrefix, os.Getpid(), l.tag)
	l.sw = l.name + "-sw"
	l.net = l.freeNet()
	t.Cleanup(l.remove)
	l.ip("netns", "add", l.sw)
	l.ip("-n", l.sw, "link", "add", "name", "br0", "type", "bridge")
	l.ip("-n", l.sw, "link", "set", "br0", "up")
	for i := range n {
		k := byte(i + 1)
		nd := labNode{
			ns:      fmt.Sprintf("%s-n%d", l.name, k),
			front:   fmt.Sprintf("cl%sn%d", l.tag, k),
			host:    netip.AddrFrom4([4]byte{10, 213, l.net, 4*k + 1}),
			addr:    netip.AddrFrom4([4]byte{10, 213, l.net, 4*k + 2}),
			cluster: netip.AddrFrom4([4]byte{10, 213, 0, k}),
		}
		l.nodes = append(l.nodes, nd)
		l.ip("netns", "add", nd.ns)
		l.ip("-n", nd.ns, "link", "set", "lo", "up")
		// The front: a /30 between the test and the node.
		l.ip("link", "add", "name", nd.front, "type", "veth", "peer", "name", "front", "netns", nd.ns)
		l.ip("addr", "add", nd.host.String()+"/30", "dev", nd.front)
		l.ip("link", "set", nd.front, "up")
		l.ip("-n", nd.ns, "addr", "add", nd.addr.String()+"/30", "dev", "front")
		l.ip("-n", nd.ns, "link", "set", "front", "up")
		// The cluster network: the node's end in its namespace, the other
		// a port of the switch's bridge.
		port := fmt.Sprintf("n%d", k)
		l.ip("-n", nd.ns, "link", "add", "name", "cluster", "type", "veth", "peer", "name", port, "netns", l.sw)
		l.ip("-n", nd.ns, "addr", "add", nd.cluster.String()+"/24", "dev", "cluster")
		l.ip("-n", nd.ns, "link", "set", "cluster", "up")
		l.ip("-n", l.sw, "link", "set", port, "master", "br0")
		l.ip("-n", l.sw, "link", "set", port, "up")
	}
	return l
}

// freeNet picks the third byte of the fronts' addresses: one that no
// address in the test's namespace uses, so that runs side by side do not
// collide (the cluster network, 10.213.0.0/24, lives in the lab's own
// namespaces only).
func (l *lab) freeNet() byte {
	out, err := exec.Command("ip", "-4", "-o", "addr", "show").CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip addr show: %v: %s", err, out)
	}
	for range 50 {
		var b [1]byte
		_, _ = rand.Read(b[:])
		n := 1 + b[0]%254
		if !strings.Contains(string(out), fmt.Sprintf(" 10.213.%d.", n)) {
			return n
		}
	}
	l.t.Fatal("no free 10.213.x.0/24 for the lab's fronts")
	return 0
}

// ip runs ip with args, failing the test if it fails.
func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// cut takes node i off the cluster network; heal puts it back. A test
// that fails while a node is cut off heals it before its processes are
// killed (the cleanups run in reverse): their connections then end at
// once, where over a link that is down the kernel would go on resending
// their ends, and keep their namespaces, for minutes.
func (l *lab) cut(i int) {
	l.ip("-n", l.sw, "link", "set", fmt.Sprintf("n%d", i+1), "down")
	l.t.Cleanup(func() { l.heal(i) })
}

func (l *lab) heal(i int) { l.ip("-n", l.sw, "link", "set", fmt.Sprintf("n%d", i+1), "up") }

// remove deletes the lab's namespaces, which takes their veths with them,
// and the fronts explicitly: a namespace outlives its name while a socket
// of it lingers, and the front would with it. Run it after the processes
// inside have exited.
func (l *lab) remove() {
	for _, nd := range l.nodes {
		if out, err := exec.Command("ip", "link", "delete", nd.front).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find") {
			l.t.Errorf("ip link delete %s: %v: %s", nd.front, err, out)
		}
		deleteNetns(l.t, nd.ns)
	}
	deleteNetns(l.t, l.sw)
}

func deleteNetns(t *testing.T, ns string) {
	out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "No such file") {
		t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
	}
}

// sweepLabs deletes the namespaces of labs whose test process is gone
// (killed before its cleanup ran).
func sweepLabs(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], labPrefix) {
			continue
		}
		ns := fields[0]
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(ns, labPrefix), "-", 2)[0])
		if err != nil || pid == os.Getpid() || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		t.Logf("removing %s, left by a run that was killed", ns)
		deleteNetns(t, ns)
	}
}
