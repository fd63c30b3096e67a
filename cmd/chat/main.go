// Command chat is a terminal client for chatd, speaking the JSON protocol
// chatd.v1 through package client.
//
// When standard input is a terminal it is interactive: lines are sent to the
// current room and lines starting with / are commands (/help lists them).
// Otherwise, or with -script, every input line is sent as a message to -room
// and chat exits once the server has acknowledged all of them, with status 1
// if one was refused; it prints only errors, or with -json the ack of each
// line. Either way it reconnects by itself when the connection drops.
// Interactively, -json prints the server's events as one JSON object per
// line.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/chatd/chatd/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	url     string
	name    string
	session string
	token   string
	login   string
	signup  string
	room    string
	json    bool
	script  bool
	timeout time.Duration
}

// isTerminal reports whether r is a terminal; tests replace it.
var isTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run is the whole command, with its environment passed in; it returns the
// exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "ws://127.0.0.1:8082/ws", "chatd WebSocket `URL`; several, comma-separated, are nodes of one cluster, tried in turn at connect and on each reconnect")
	fs.StringVar(&cfg.name, "name", "", "user `name` (default: a guest name given by the server)")
	fs.StringVar(&cfg.session, "session", "", "session `token` of -name, to connect as a user who is already connected elsewhere")
	fs.StringVar(&cfg.token, "token", os.Getenv("CHATD_TOKEN"), "sign in with this login `token` (from POST /api/login) or JWT; default $CHATD_TOKEN")
	fs.StringVar(&cfg.login, "login", "", "log in to an account as `name` first; the password comes from $CHATD_PASSWORD or is asked for on the terminal")
	fs.StringVar(&cfg.signup, "register", "", "register an account `name` first, then chat as it; the password as for -login")
	fs.StringVar(&cfg.room, "room", "lobby", "`room` to join (scripts send to it)")
	fs.BoolVar(&cfg.json, "json", false, "print the server's events as JSON, one object per line (in a script: the ack of each line), and notices on stderr")
	fs.BoolVar(&cfg.script, "script", false, "scripted mode even when stdin is a terminal: send each line to -room, exit when all are acknowledged")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "how long to wait for each request's reply, reconnects included")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: chat [flags]

Interactive when stdin is a terminal (type /help); otherwise each line of
stdin is sent to -room, e.g.  echo hello | chat -room ops

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chat: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}

	if cfg.login != "" || cfg.signup != "" {
		token, err := signIn(ctx, cfg, stdin, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "chat: %v\n", err)
			return 1
		}
		cfg.token = token
	}

	scripted := cfg.script || !isTerminal(stdin)
	// A script's output is its acks (with -json) and its errors, not the
	// room's traffic.
	a := &app{cfg: cfg, out: newPrinter(stdout, stderr, cfg.json, scripted)}
	stop := make(chan struct{})
	lines := readLines(stdin, stop)
	var err error
	if scripted {
		err = a.script(ctx, lines)
	} else {
		err = a.interactive(ctx, lines)
	}
	close(stop)
	a.closeClient()
	if err != nil {
		fmt.Fprintf(stderr, "chat: %v\n", err)
		return 1
	}
	return 0
}

// input is one line of stdin, or the error that ended reading.
type input struct {
	line string
	err  error
}

// readLines reads r line by line on a goroutine of its own, which ends at
// the end of input or, once stop is closed, with the next line.
func readLines(r io.Reader, stop <-chan struct{}) <-chan input {
	ch := make(chan input)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			select {
			case ch <- input{line: sc.Text()}:
			case <-stop:
				return
			}
		}
		if err := sc.Err(); err != nil {
			select {
			case ch <- input{err: err}:
			case <-stop:
			}
		}
	}()
	return ch
}

// app is one run of the command: the configuration, the current client and
// the goroutine printing its events.
type app struct {
	cfg     config
	out     *printer
	cl      *client.Client
	printed sync.WaitGroup // the current client's event printer
	current string         // interactive mode: the room lines go to
	// lastSearch is the last /search, with the cursor /more continues.
	lastSearch client.Search
	thread     threadView // interactive mode: the thread /reply answers in
}

func (a *app) dial(ctx context.Context, name, session string, rooms []string) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.timeout)
	defer cancel()
	urls := a.cfg.urls()
	return client.Dial(ctx, urls[0], client.Options{Name: name, Session: session, Token: a.cfg.token, Rooms: rooms, Reconnect: true, URLs: urls[1:]})
}

// use makes cl the current client, closing the previous one.
func (a *app) use(cl *client.Client) {
	a.closeClient()
	a.cl = cl
	a.printed.Go(func() {
		me := cl.Name()
		for ev := range cl.Events() {
			a.out.event(ev, me)
			if r, ok := ev.(*client.Reconnected); ok {
				me = r.Name
			}
		}
	})
}

// closeClient closes the current client and waits until its events are
// printed.
func (a *app) closeClient() {
	if a.cl != nil {
		_ = a.cl.Close()
		a.printed.Wait()
	}
}

func (a *app) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.cfg.timeout)
}

// script sends every line to the room and returns once all are
// acknowledged, or with the first failure.
func (a *app) script(ctx context.Context, lines <-chan input) error {
	cl, err := a.dial(ctx, a.cfg.name, a.cfg.session, []string{a.cfg.room})
	if err != nil {
		return err
	}
	a.use(cl)
	room := a.cfg.room
	for n := 1; ; n++ {
		var in input
		var ok bool
		select {
		case in, ok = <-lines:
		case <-cl.Done():
			return cl.Err()
		case <-ctx.Done():
			return errors.New("interrupted before every line was sent")
		}
		switch {
		case !ok:
			return nil
		case in.err != nil:
			return fmt.Errorf("reading input: %w", in.err)
		case in.line == "":
			continue
		}
		rctx, cancel := a.reqCtx(ctx)
		ack, err := cl.Send(rctx, room, in.line)
		cancel()
		if err != nil {
			return fmt.Errorf("line %d not sent: %w", n, err)
		}
		if a.cfg.json {
			a.out.raw(ack.Raw)
		}
	}
}
