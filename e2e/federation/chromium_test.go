package federation

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/serverless-oidc/op/e2e/chromium"
)

// Headless chromium (Debian's package) driven by chromedp, as e2e/browser
// does it: the browser is found on PATH (a missing one fails the test),
// and every wait is bounded.

const (
	browserLifetime = 2 * time.Minute  // the whole browser, whatever happens
	startTimeout    = 20 * time.Second // launching chromium
	stepTimeout     = 10 * time.Second // one step: a navigation, a click, a wait
)

// browser is a tab of a headless chromium with a fresh profile.
type browser struct {
	t      *testing.T
	ctx    context.Context
	output *chromium.Output // chromium's stdout and stderr
}

// newBrowser starts chromium: headless, no sandbox (root in a container),
// no GPU, and no background networking, QUIC, component updates or sync,
// whose connections the closed network refuses. It is closed at cleanup.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium.Path(t)
	b := &browser{t: t, output: &chromium.Output{}}
	lifetime, cancelLifetime := context.WithTimeout(context.Background(), browserLifetime)
	t.Cleanup(cancelLifetime)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(lifetime, chromium.Options(path, t.TempDir(), b.output)...)
	t.Cleanup(cancelAlloc) // waits for chromium to exit
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// The first Do launches chromium and binds it to ctx, which therefore
	// carries no step timeout: a timer bounds the wait instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium (%s): %v\nchromium output:\n%s", path, err, b.output.Tail(30))
		}
	case <-time.After(startTimeout):
		cancelTab()
		t.Fatalf("start chromium (%s): not done within %v\nchromium output:\n%s", path, startTimeout, b.output.Tail(30))
	}
	b.ctx = ctx
	return b
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

// eval evaluates a JavaScript expression on the page as one step.
func eval[T any](b *browser, step, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// fail ends the test with the step, the error, the page's address and
// text, and a screenshot under e2e/artifacts (git-ignored).
func (b *browser) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	shot := "(none)"
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		if p, err := chromium.WriteArtifact(filepath.Join("..", "artifacts"), "federation-failure-"+chromium.FileName(b.t.Name()+"-"+step)+".png", png); err == nil {
			shot = p
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (step limit %v)", err, stepTimeout)
	}
	b.t.Fatalf("browser step %q: %v\n  page: %s\n  screenshot: %s\n  text:\n%s\n  chromium output (end):\n%s",
		step, err, loc, shot, chromium.Indent(text), chromium.Indent(b.output.Tail(15)))
}

// location is the address of the page the tab shows.
func (b *browser) location() string {
	b.t.Helper()
	return eval[string](b, "read the location", `location.href`)
}
