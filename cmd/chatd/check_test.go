package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func noEnv(string) (string, bool) { return "", false }

func TestSettingsThatMakeNoSenseAreRefusedByName(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string // in the error
	}{
		{args: []string{"-max-conns", "-5"}, want: "-max-conns -5"},
		{args: []string{"-send-rate", "-1"}, want: "-send-rate -1"},
		{args: []string{"-send-byte-rate", "-1"}, want: "-send-byte-rate -1"},
		{env: map[string]string{"CHATD_SEND_BYTE_BURST": "-1"}, want: `CHATD_SEND_BYTE_BURST="-1" (-send-byte-burst)`},
		{env: map[string]string{"CHATD_REPLY_BYTES": "-1"}, want: `CHATD_REPLY_BYTES="-1" (-reply-bytes)`},
		{args: []string{"-queue-bytes", "0"}, want: "-queue-bytes 0"},
		{args: []string{"-max-message-bytes", "0"}, want: "-max-message-bytes 0"},
		{args: []string{"-retention-age", "-1h"}, want: "-retention-age -1h"},
		{args: []string{"-retention-messages", "-1"}, want: "-retention-messages -1"},
		{args: []string{"-history-limit", "0"}, want: "-history-limit 0"},
		{args: []string{"-idle-timeout", "0s"}, want: "-idle-timeout 0s"},
		{args: []string{"-max-message-bytes", "2048", "-queue-bytes", "1024"}, want: "-max-message-bytes 2048: want less than -queue-bytes"},
		{args: []string{"-nats", "nats://127.0.0.1:4222"}, want: "a cluster (-nats, -nats-listen, -nats-cluster, -nats-routes) needs -store postgres://"},
		{args: []string{"-nats-cluster", "127.0.0.1:6222", "-store", "memory"}, want: "-store memory belongs to one process"},
		{env: map[string]string{"CHATD_NATS_LISTEN": "127.0.0.1:4222"}, want: "-store sqlite belongs to one process"},
		{args: []string{"-store", "postgres://db/chatd", "-nats", "nats://n1:4222", "-nats-cluster", "127.0.0.1:6222"}, want: "choose one"},
		{args: []string{"-store", "postgres://db/chatd", "-nats-routes", "nats://n2:6222"}, want: "-nats-routes needs -nats-cluster"},
		{args: []string{"-log-format", "xml"}, want: "-log-format xml"},
		{args: []string{"-log-level", "loud"}, want: "-log-level loud"},
		{env: map[string]string{"CHATD_LOG_LEVEL": "loud"}, want: `CHATD_LOG_LEVEL="loud"`},
		{env: map[string]string{"CHATD_MAX_CONNS": "-5"}, want: `CHATD_MAX_CONNS="-5" (-max-conns)`},
	} {
		lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		_, err := parseConfig(tc.args, lookup, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: error %v, want one with %q", tc.args, tc.env, err, tc.want)
		}
	}
	// What the defaults and the documented special values mean is accepted.
	for _, args := range [][]string{
		nil,
		{"-send-rate", "0", "-send-byte-rate", "0", "-retention-age", "0", "-join-history", "0", "-ip-conns", "0", "-log-level", "debug"},
	} {
		if _, err := parseConfig(args, noEnv, io.Discard); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestTheAddressIsCheckedBeforeTheStoreIsOpened(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, addr := range []string{"nonsense", busy.Addr().String()} {
		data := filepath.Join(t.TempDir(), "data")
		err := run(context.Background(), []string{"-addr", addr, "-data", data}, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "listen on "+addr) {
			t.Errorf("-addr %s: %v", addr, err)
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("-addr %s: the data directory was created (%v)", addr, err)
		}
	}
}

func TestHelpGivesEachDefaultOnce(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, noEnv, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for line := range strings.Lines(out.String()) {
		if strings.Count(line, "(default") > 1 {
			t.Errorf("two defaults: %q", line)
		}
	}
	if !strings.Contains(out.String(), "90% of the open-file limit") {
		t.Errorf("-max-conns does not say where its default comes from:\n%s", &out)
	}
}

func TestVersionNamesTheBuild(t *testing.T) {
	bin := buildChatd(t)
	out, err := exec.Command(bin, "-version").Output()
	if err != nil {
		t.Fatalf("-version: %v", err)
	}
	got := strings.TrimSpace(string(out))
	if !strings.HasPrefix(got, "chatd ") || !strings.HasSuffix(got, runtime.Version()) {
		t.Fatalf("-version printed %q", got)
	}
	// When the build recorded its revision, -version says it.
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(info)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision=") {
			if rev := strings.TrimPrefix(f[1], "vcs.revision="); !strings.Contains(got, rev) {
				t.Fatalf("-version printed %q, not the revision %s", got, rev)
			}
		}
	}
}
