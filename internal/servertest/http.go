package servertest

import (
	"io"
	"net/http"
	"testing"
)

// Get makes a GET request to url with header added, and returns the
// response and its whole body, which it has read and closed.
func Get(tb testing.TB, url string, header http.Header) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read the body of GET %s: %v", url, err)
	}
	return resp, string(body)
}
