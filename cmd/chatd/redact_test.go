package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestStorePasswordsAreRedacted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cret@db:5432/chat?sslmode=disable", "postgres://u:xxxxx@db:5432/chat?sslmode=disable"},
		{"postgres://db/chat?user=u&password=s3cret", "postgres://db/chat?password=xxxxx&user=u"},
		{"postgresql://u@db/chat?sslpassword=s3cret&sslmode=verify-full", "postgresql://u@db/chat?sslmode=verify-full&sslpassword=xxxxx"},
		{"postgres://u:p%40ss@db/chat?PASSWORD=s3cret", "postgres://u:xxxxx@db/chat?PASSWORD=xxxxx"},
		{"host=db user=u password=s3cret dbname=chat", "host=db user=u password=xxxxx dbname=chat"},
		{"host=db password = 's3 cret\\' x' dbname=chat", "host=db password = xxxxx dbname=chat"},
		{"host=db sslpassword=s3cret", "host=db sslpassword=xxxxx"},
		{"postgres://u@db/chat", "postgres://u@db/chat"},
		{"memory", "memory"},
	} {
		got := storeName(tc.in, "")
		if got != tc.want {
			t.Errorf("storeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3") {
			t.Errorf("storeName(%q) = %q shows the password", tc.in, got)
		}
	}
}

func TestAMistypedStoreShowsNoPassword(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-store", "host=db password=s3cret"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "password=xxxxx") {
		t.Fatalf("error: %v", err)
	}
}
