package main

import "strings"

// urls splits -url into the servers to try, in order; there is always at
// least one.
func (c config) urls() []string {
	var out []string
	for u := range strings.SplitSeq(c.url, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		out = []string{c.url}
	}
	return out
}
