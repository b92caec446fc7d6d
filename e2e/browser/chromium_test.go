package browser

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/serverless-oidc/op/e2e/chromium"
)

// Time limits: every wait is bounded.
const (
	browserLifetime = 2 * time.Minute  // the whole browser, whatever happens
	startTimeout    = 20 * time.Second // launching chromium
	stepTimeout     = 10 * time.Second // one step: a navigation, a click, a wait
)

// artifactsDir receives screenshots (git-ignored: /e2e/artifacts/).
var artifactsDir = filepath.Join("..", "artifacts")

// browser is a tab of a headless chromium with a fresh profile: the first
// tab (newBrowser) or one in a browser context of its own (newContext).
type browser struct {
	t   *testing.T
	ctx context.Context // the tab; chromium lives as long as the first tab

	output    *chromium.Output // chromium's stdout and stderr
	mu        sync.Mutex
	console   []string // the tab's console and browser log, in order
	requests  []string // the main frame's document requests, redirects included, in order
	documents []string // the URLs of the documents the main frame committed (showed), in order
}

// newBrowser starts chromium with the flags these machines need: headless,
// no sandbox (root in a container), no GPU, and no background networking,
// QUIC, component updates or sync, whose connections the closed network
// refuses. The profile is a fresh directory. Closing happens at cleanup.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium.Path(t)
	profile := t.TempDir() // removed after the browser has exited (cleanups run last-in first-out)
	b := &browser{t: t, output: &chromium.Output{}}
	cert, err := spaCert()
	if err != nil {
		t.Fatalf("make the https sites' certificate: %v", err)
	}

	lifetime, cancelLifetime := context.WithTimeout(context.Background(), browserLifetime)
	t.Cleanup(cancelLifetime)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(lifetime, append(chromium.Options(path, profile, b.output),
		// The https SPAs (reserveHTTPSSite): *.test names go to 127.0.0.1,
		// and a certificate error is ignored only for a chain holding the
		// key of this run's test certificate, not for any other site.
		// Chromium honours the SPKI list only with --user-data-dir, which
		// Options sets.
		chromedp.Flag("host-resolver-rules", hostResolverRules),
		chromedp.Flag("ignore-certificate-errors-spki-list", cert.SPKIHash),
	)...)
	t.Cleanup(cancelAlloc) // waits for chromium to exit
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// The first Do launches chromium and binds it to ctx.
	b.attach(ctx, cancelTab, "start chromium ("+path+")")

	vctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.CallBrowser(vctx, cdpbrowser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("Browser.getVersion: %v", err)
	}
	t.Logf("chromium: %s (%s), protocol %s, %s", v.Product, path, v.ProtocolVersion, v.UserAgent)
	return b
}

// newContext opens a tab in a new browser context of the same chromium: its
// own cookies and storage, as a second browser profile would have. The
// provider sees a browser that has never signed in.
func (b *browser) newContext() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	nb := &browser{t: b.t, output: b.output}
	nb.attach(ctx, cancel, "open a tab in a new browser context")
	return nb
}

// attach runs the first Do on ctx, which opens its tab (and, for the first
// tab, launches chromium) and binds it to ctx, so ctx carries no step
// timeout: a watchdog bounds the wait instead. Then it collects the tab's
// console, and the main frame's document requests and committed documents
// (see navigations).
func (b *browser) attach(ctx context.Context, cancel context.CancelFunc, what string) {
	b.t.Helper()
	b.ctx = ctx
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			b.t.Fatalf("%s: %v\nchromium output:\n%s", what, err, b.output.Tail(40))
		}
	case <-time.After(startTimeout):
		cancel()
		b.t.Fatalf("%s: not done within %s\nchromium output:\n%s", what, startTimeout, b.output.Tail(40))
	}
	// Listen delivers events in order, before the reply to a command that
	// follows them: a step that waited for a page has its navigation here.
	// A tab's main frame has the tab's target id.
	mainFrame := cdp.FrameID(chromedp.FromContext(ctx).Target.TargetID)
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if e.Type == network.ResourceTypeDocument && e.Request != nil && e.FrameID == mainFrame {
				line := e.Request.Method + " " + e.Request.URL
				if e.RedirectResponse != nil {
					line = "(" + strconv.FormatInt(e.RedirectResponse.Status, 10) + ") " + line
				}
				b.mu.Lock()
				b.requests = append(b.requests, line)
				b.mu.Unlock()
			}
		case *page.EventFrameNavigated:
			if e.Frame != nil && e.Frame.ParentID == "" {
				b.mu.Lock()
				b.documents = append(b.documents, e.Frame.URL)
				b.mu.Unlock()
			}
		}
	}); err != nil {
		b.t.Fatalf("%s: listen for navigations: %v", what, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			line := m.String()
			if m.URL != "" && !strings.Contains(m.Text, m.URL) {
				line += " (" + m.URL + ")"
			}
			b.mu.Lock()
			b.console = append(b.console, line)
			b.mu.Unlock()
		}
	}()
}

// do runs steps as one named step within stepTimeout; a failure ends the
// test with what the page showed.
func (b *browser) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(step, err)
	}
}

// run is do for an action with a value.
func run[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// fail ends the test with the step, the error, the page's address and
// text, a screenshot, the console and the end of chromium's output.
func (b *browser) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	shot := "(none)"
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		if p, err := writeArtifact("failure-"+fileName(b.t.Name()+"-"+step)+".png", png); err == nil {
			shot = p
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (step limit %s)", err, stepTimeout)
	}
	requests, _ := b.navigations(navMark{})
	if len(requests) > 12 {
		requests = requests[len(requests)-12:]
	}
	for i, r := range requests {
		if len(r) > 300 {
			requests[i] = r[:300] + "…"
		}
	}
	b.t.Fatalf("browser step %q: %v\n  page: %s\n  screenshot: %s\n  text:\n%s\n  console:\n%s\n  navigations (end):\n%s\n  chromium output (end, without D-Bus noise):\n%s",
		step, err, loc, shot, indent(text), indent(strings.Join(b.consoleLines(), "\n")), indent(strings.Join(requests, "\n")), indent(b.output.Tail(20)))
}

// screenshot saves the visible page as an artifact and logs its path.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.CaptureScreenshot())
	path, err := writeArtifact(name, png)
	if err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
	b.t.Logf("screenshot: %s", path)
}

// consoleLines returns what the tab wrote to its console so far.
func (b *browser) consoleLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// navMark is a point in the tab's history of navigations.
type navMark struct{ requests, documents int }

// mark returns the present point of the tab's navigations.
func (b *browser) mark() navMark {
	b.mu.Lock()
	defer b.mu.Unlock()
	return navMark{len(b.requests), len(b.documents)}
}

// navigations returns what the main frame did since m: each document
// request, a redirect's target with the status that led to it, and each
// document it committed, that is, showed. A redirect commits nothing, so a
// provider that answers at once (a silent sign-in) has requests and no
// documents.
func (b *browser) navigations(m navMark) (requests, documents []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests[m.requests:]...), append([]string(nil), b.documents[m.documents:]...)
}

// waitConsole waits until a console line matches re, and returns it.
func (b *browser) waitConsole(re *regexp.Regexp) (string, bool) {
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		for _, l := range b.consoleLines() {
			if re.MatchString(l) {
				return l, true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", false
}

func writeArtifact(name string, data []byte) (string, error) {
	return chromium.WriteArtifact(artifactsDir, name, data)
}

func fileName(s string) string { return chromium.FileName(s) }

func indent(s string) string { return chromium.Indent(s) }
