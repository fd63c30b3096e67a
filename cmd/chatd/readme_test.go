package main

import (
	"flag"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeFlags parses the README's configuration table: each row's flags
// (a row may name several, "`-a`, `-b`") with the default shown for each.
func readmeFlags(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| (`-[a-z0-9-]+`(?:, `-[a-z0-9-]+`)*) \\| ([^|]+) \\|")
	flagName := regexp.MustCompile("`-([a-z0-9-]+)`")
	out := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		names := flagName.FindAllStringSubmatch(m[1], -1)
		v := strings.TrimSpace(m[2])
		values := strings.Split(v, ", ")
		for i, n := range names {
			if len(names) > 1 && len(values) == len(names) {
				v = values[i]
			}
			if _, dup := out[n[1]]; dup {
				t.Errorf("README lists -%s twice", n[1])
			}
			out[n[1]] = strings.ReplaceAll(v, "`", "")
		}
	}
	if len(out) == 0 {
		t.Fatal("no configuration table found in README.md")
	}
	return out
}

// leadingValue is the number, with its unit, that a README default starts
// with ("20/s" is 20, "5 per minute" is 5, "168h" is 168h).
var leadingValue = regexp.MustCompile(`^-?[0-9][0-9.]*[a-zµ]*`)

// sameDefault reports whether shown, a README default, says the default
// of f. A number or duration must be the flag's; words may stand for a
// flag that is off or unset by default ("off", "none"). A flag whose zero
// stands for a default derived from other settings says so in its usage,
// "(0: ...)", and the README may describe that default in its own words.
func sameDefault(shown string, f *flag.Flag) bool {
	def := f.DefValue
	if shown == def || def == "0" && strings.Contains(f.Usage, "(0: ") {
		return true
	}
	lead := leadingValue.FindString(shown)
	if lead == "" {
		return def == "" || def == "0" || def == "false"
	}
	if d, err := time.ParseDuration(def); err == nil {
		s, err := time.ParseDuration(lead)
		return err == nil && s == d
	}
	d, derr := strconv.ParseFloat(def, 64)
	s, serr := strconv.ParseFloat(lead, 64)
	return derr == nil && serr == nil && s == d
}

func TestREADMEListsEveryFlagWithItsDefault(t *testing.T) {
	var c config
	fs := c.flagSet(io.Discard)
	// Defaults that depend on the machine chatd runs on.
	computed := map[string]bool{"max-conns": true}
	readme := readmeFlags(t)
	fs.VisitAll(func(f *flag.Flag) {
		shown, ok := readme[f.Name]
		if !ok {
			t.Errorf("README's configuration table does not list -%s (default %q)", f.Name, f.DefValue)
			return
		}
		if !computed[f.Name] && !sameDefault(shown, f) {
			t.Errorf("README gives -%s the default %q; the flag's is %q", f.Name, shown, f.DefValue)
		}
	})
	for name := range readme {
		if fs.Lookup(name) == nil {
			t.Errorf("README lists -%s, which chatd does not have", name)
		}
	}
}
