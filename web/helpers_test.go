package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/sqlite"
)

// waitTimeout bounds every wait for the page: generous, because Chromium
// and a race-enabled server share two cores, yet far below the test
// timeout so that a failure says what it waited for.
const waitTimeout = 20 * time.Second

// chromiumPath finds the browser the tests drive: CHATD_TEST_CHROMIUM, else
// chromium in PATH. Without one the test is skipped, except under CI,
// where a missing browser must not pass as success.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHATD_TEST_CHROMIUM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	const msg = "no Chromium for the browser tests: set CHATD_TEST_CHROMIUM, or install Debian's chromium package (scripts/chromium-test-browser does)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium with a profile of its own, closed when
// the test ends.
type browser struct {
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 800),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel()
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &browser{ctx: bctx}
}

// page is a tab in a browser context of its own: its own storage and
// cookies, so two pages are two independent users.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu      sync.Mutex
	console []string
}

func (b *browser) newPage(t *testing.T, name string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &page{t: t, name: name, ctx: ctx}
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	// What the page logs explains most failures; show it with them.
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m.String())
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if t.Failed() && len(p.console) > 0 {
			t.Logf("console of page %s:\n\t%s", p.name, strings.Join(p.console, "\n\t"))
		}
	})
	return p
}

// do runs actions within waitTimeout.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("page %s: %s: %v", p.name, what, err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("page %s: eval %s: %v", p.name, expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true, failing the test
// after waitTimeout with what it waited for. The polling runs in the page
// on a timer (not on animation frames, which a background tab may not get).
func (p *page) waitFor(what, cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		p.t.Fatalf("page %s: waiting for %s (%s): %v", p.name, what, cond, err)
	}
}

// open loads the client from srv.
func (p *page) open(srv *servertest.Server) {
	p.t.Helper()
	p.do("load the client", chromedp.Navigate("http://"+srv.Addr+"/"))
}

// fill replaces the value of the input with id by typing value.
func (p *page) fill(id, value string) {
	p.t.Helper()
	p.do("clear "+id, chromedp.Evaluate[chromedp.Void](`document.getElementById(`+jsString(id)+`).value = ""`))
	if value != "" {
		p.do("type into "+id, chromedp.SendKeys(chromedp.ID(id), value))
	}
}

// joinAsGuest signs in as a guest called name and waits for the
// connection.
func (p *page) joinAsGuest(name string) {
	p.t.Helper()
	p.do("sign in as guest "+name,
		chromedp.WaitVisible(chromedp.ID("guest-name")),
		chromedp.SendKeys(chromedp.ID("guest-name"), name),
		chromedp.Click(chromedp.ID("guest-button")),
	)
	p.waitFor("the connection", `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent === `+jsString(name))
}

// joinRoom joins room with the sidebar's form and waits until it shows.
func (p *page) joinRoom(room string) {
	p.t.Helper()
	p.do("join "+room,
		chromedp.SendKeys(chromedp.ID("join-name"), room),
		chromedp.Click(chromedp.ID("join-button")),
	)
	p.waitFor("room "+room+" shown", `document.getElementById("view-title").textContent.startsWith(`+jsString("#"+room)+`)`)
}

// say types text into the composer and sends it with Enter.
func (p *page) say(text string) {
	p.t.Helper()
	p.do("send "+text, chromedp.SendKeys(chromedp.ID("input"), text), pressEnter(false))
}

// pressEnter presses Enter, or Shift+Enter, in the focused element. It is
// the key a person presses: SendKeys's "\n" adds a char event after the
// keydown, which inserts a line break even when the page cancelled the
// keydown, as the composer does.
func pressEnter(shift bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeRawKeyDown, Key: "Enter", Code: "Enter",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		if shift {
			// A keydown with text is one that, not cancelled, types it.
			down.Type, down.Text, down.Modifiers = input.DispatchKeyEventTypeKeyDown, "\r", 8
		}
		up := down
		up.Type, up.Text = input.DispatchKeyEventTypeKeyUp, ""
		for _, ev := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// waitForText waits until a delivered message in the view has text.
func (p *page) waitForText(text string) {
	p.t.Helper()
	p.waitFor("message "+text, `[...document.querySelectorAll("#messages li[data-seq] .text")].some(e => e.textContent === `+jsString(text)+`)`)
}

// shown is one message as the page shows it.
type shown struct {
	Seq  int    `json:"seq"`
	From string `json:"from"`
	Text string `json:"text"`
	Time string `json:"time"`
	Mine bool   `json:"mine"`
}

// messages returns the delivered messages in the view, top to bottom.
func (p *page) messages() []shown {
	p.t.Helper()
	return eval[[]shown](p, `[...document.querySelectorAll("#messages li")].map(li => ({
		seq: Number(li.dataset.seq),
		from: li.querySelector(".author").textContent,
		text: li.querySelector(".text").textContent,
		time: li.querySelector("time").dateTime,
		mine: li.classList.contains("mine"),
	}))`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// startServer serves chatd with a SQLite store in dir on addr
// ("127.0.0.1:0" for any port). The store is closed when the test ends or
// by stop.
func startServer(t *testing.T, dir, addr string) (*servertest.Server, func()) {
	t.Helper()
	return startServerWith(t, dir, addr, server.Config{})
}

// startServerWith is startServer with cfg's other settings (such as small
// replies); its store and send rate are startServer's.
func startServerWith(t *testing.T, dir, addr string, cfg server.Config) (*servertest.Server, func()) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.SendRate = st, -1
	srv := servertest.StartAt(t, cfg, addr)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Stop(t)
			st.Close()
		})
	}
	t.Cleanup(stop)
	return srv, stop
}

// wsClient is a WebSocket client outside the browser, of an independent
// implementation: plain (no subprotocol) or JSON (chatd.v1).
type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWS(t *testing.T, srv *servertest.Server, query string, subprotocols ...string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, srv.URL()+"?"+query, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: t, ws: c}
}

func (c *wsClient) send(text string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		c.t.Fatalf("send %q: %v", text, err)
	}
}

func (c *wsClient) read() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return string(b)
}

// event reads JSON events until one of type typ arrives.
func (c *wsClient) event(typ string) map[string]any {
	c.t.Helper()
	for {
		var ev map[string]any
		if err := json.Unmarshal([]byte(c.read()), &ev); err != nil {
			c.t.Fatalf("event is not JSON: %v", err)
		}
		switch ev["type"] {
		case typ:
			return ev
		case "error":
			c.t.Fatalf("want a %s event, got %v", typ, ev)
		}
	}
}

// post sends a chatd.v1 send request and waits for its ack.
func (c *wsClient) post(room, text string) {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":%s}`, room, jsString(text)))
	if ev := c.event("ack"); ev["request"] != "send" {
		c.t.Fatalf("send %q: %v", text, ev)
	}
}
