package integration

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), with
// the standard library only. It records what a page must never do:
// throw, log an error, or ask for anything outside its origin.
type browser struct {
	t       *testing.T
	origin  string
	shots   string // where screenshots are kept
	cmd     *exec.Cmd
	in      *os.File
	session string
	exited  chan struct{}

	mu       sync.Mutex
	next     int
	waiting  map[int]chan cdpMessage
	problems []string
	stderr   strings.Builder
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// chromium finds the browser: $LONGSHORE_CHROMIUM, or Debian's chromium.
// Without one the test is skipped, unless LONGSHORE_REQUIRE_ALL=1.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LONGSHORE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium for the browser test: install Debian's (apt-get install -y chromium) or point LONGSHORE_CHROMIUM at one"
	if os.Getenv("LONGSHORE_REQUIRE_ALL") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startBrowser starts Chromium with one 1280x800 page for origin.
func startBrowser(t *testing.T, origin string) *browser {
	t.Helper()
	bin := chromium(t)
	toChrome, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, origin: strings.TrimRight(origin, "/"), in: in, waiting: map[int]chan cdpMessage{}, exited: make(chan struct{}),
		shots: artifacts(t)}
	// The flags that keep Chromium off the network and quiet on this kind of machine.
	b.cmd = exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "--window-size=1280,800", "about:blank")
	b.cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	b.cmd.Stderr = &lockedBuilder{mu: &b.mu, b: &b.stderr}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	toChrome.Close()
	fromChrome.Close()
	go b.read(out)
	t.Cleanup(b.close)

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.browserCall("Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.browserCall("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		b.call(domain+".enable", map[string]any{}, nil)
	}
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false}, nil)
	b.colorScheme("light")
	return b
}

type lockedBuilder struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedBuilder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (b *browser) read(out *os.File) {
	defer close(b.exited)
	r := bufio.NewReaderSize(out, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.waiting[m.ID]
			delete(b.waiting, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.event(m)
	}
}

// event records what a page must not do.
func (b *browser) event(m cdpMessage) {
	var p struct {
		Type             string                `json:"type"`
		Args             []struct{ Value any } `json:"args"`
		ExceptionDetails struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
		Entry struct {
			Level, Text, URL string
		} `json:"entry"`
		Request struct {
			URL string `json:"url"`
		} `json:"request"`
	}
	json.Unmarshal(m.Params, &p)
	problem := ""
	switch m.Method {
	case "Runtime.exceptionThrown":
		problem = "uncaught exception: " + p.ExceptionDetails.Text + " " + p.ExceptionDetails.Exception.Description
	case "Runtime.consoleAPICalled":
		if p.Type == "error" || p.Type == "assert" {
			problem = fmt.Sprintf("console.%s: %v", p.Type, p.Args)
		}
	case "Log.entryAdded":
		if p.Entry.Level == "error" {
			problem = "browser error: " + p.Entry.Text + " " + p.Entry.URL
		}
	case "Network.requestWillBeSent":
		u := p.Request.URL
		if !strings.HasPrefix(u, b.origin+"/") && u != b.origin && !strings.HasPrefix(u, "data:") && u != "about:blank" {
			problem = "request outside the origin: " + u
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// Problems are the errors, exceptions and foreign requests seen so far.
func (b *browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

func (b *browser) close() {
	b.in.Close()
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
	}
	b.cmd.Process.Kill()
	b.cmd.Wait()
}

func (b *browser) browserCall(method string, params, out any) {
	b.t.Helper()
	if err := b.send("", method, params, out); err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
}

// call sends a command to the page and decodes its result into out.
func (b *browser) call(method string, params, out any) {
	b.t.Helper()
	if err := b.send(b.session, method, params, out); err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
}

func (b *browser) send(session, method string, params, out any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	p, _ := json.Marshal(params)
	msg, _ := json.Marshal(cdpMessage{ID: id, Method: method, Params: p, SessionID: session})
	if _, err := b.in.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("write to chromium: %w\n%s", err, b.chromeLog())
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("chromium answered %d: %s", m.Error.Code, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.exited:
		return fmt.Errorf("chromium exited:\n%s", b.chromeLog())
	case <-time.After(30 * time.Second):
		return fmt.Errorf("chromium did not answer in 30s")
	}
}

func (b *browser) chromeLog() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stderr.String()
}

// eval runs a JavaScript expression in the page (awaiting a promise) and
// decodes its value into out.
func (b *browser) eval(expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := b.send(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res); err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return fmt.Errorf("%s: %s %s", expr, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// value is eval that fails the test on an error.
func (b *browser) value(expr string, out any) {
	b.t.Helper()
	if err := b.eval(expr, out); err != nil {
		b.t.Fatal(err)
	}
}

// waitFor polls a JavaScript condition until it holds; on a timeout it
// keeps a screenshot and says what the page showed.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		var ok bool
		if lastErr = b.eval("Boolean("+cond+")", &ok); lastErr == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	shot := b.screenshot("timeout")
	var text string
	b.eval(`document.querySelector('main') ? document.querySelector('main').innerText.slice(0, 2000) : ''`, &text)
	b.t.Fatalf("timed out waiting until %s (%s; last error %v)\nscreenshot: %s\nthe page shows:\n%s", what, cond, lastErr, shot, text)
}

// navigate loads a path of the origin and waits for the page to load.
func (b *browser) navigate(path string) {
	b.t.Helper()
	b.call("Page.navigate", map[string]any{"url": b.origin + path}, nil)
	b.waitFor("the page has loaded", `document.readyState === 'complete' && location.pathname === `+jsString(strings.SplitN(path, "?", 2)[0]))
}

// click clicks the middle of the element as a user would: with the mouse.
func (b *browser) click(selector string) {
	b.t.Helper()
	b.waitFor(selector+" is on the page and visible", `(() => { const el = document.querySelector(`+jsString(selector)+`);
		if (!el) return false; el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; })()`)
	var at struct{ X, Y float64 }
	b.value(`(() => { const r = document.querySelector(`+jsString(selector)+`).getBoundingClientRect(); return {X: r.x + r.width / 2, Y: r.y + r.height / 2}; })()`, &at)
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		b.call("Input.dispatchMouseEvent", map[string]any{"type": typ, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1}, nil)
	}
}

// typeText focuses an element and types into it.
func (b *browser) typeText(selector, text string) {
	b.t.Helper()
	b.value(`document.querySelector(`+jsString(selector)+`).focus()`, nil)
	b.call("Input.insertText", map[string]any{"text": text}, nil)
}

// colorScheme makes the page see prefers-color-scheme: light or dark.
func (b *browser) colorScheme(s string) {
	b.t.Helper()
	b.call("Emulation.setEmulatedMedia", map[string]any{"features": []map[string]string{{"name": "prefers-color-scheme", "value": s}}}, nil)
}

// screenshot keeps a PNG of the page as a test artifact and returns its path.
func (b *browser) screenshot(name string) string {
	var shot struct {
		Data string `json:"data"`
	}
	if err := b.send(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return path
}

// artifacts is where screenshots are kept: $LONGSHORE_ARTIFACTS, or a
// folder of the test's own.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LONGSHORE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("LONGSHORE_ARTIFACTS: %v", err)
	}
	return dir
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
