package systemtest

import "syscall"

// procAttr has the kernel kill a process the test started when the test's
// process dies, so that a test killed before its cleanup (a timeout, a
// ^C) leaves no chatd behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
