package main

import (
	"errors"
	"runtime/debug"
	"strings"
)

// errVersion asks main to print the version instead of serving.
var errVersion = errors.New("version requested")

// version describes this build: the module version, the VCS revision it
// was built from (marked when the tree had changes) and the Go release.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "chatd (no build information)"
	}
	parts := []string{"chatd", bi.Main.Version}
	var rev, when, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		}
	}
	if rev != "" {
		parts = append(parts, "revision "+rev+modified)
	}
	if when != "" {
		parts = append(parts, when)
	}
	return strings.Join(append(parts, bi.GoVersion), " ")
}
