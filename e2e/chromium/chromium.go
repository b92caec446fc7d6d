// Package chromium is what the browser tests (e2e/browser, e2e/federation)
// share to drive Debian's chromium with chromedp: finding the browser,
// the flags these machines need, its output, and the artifacts a failed
// step leaves (screenshots under e2e/artifacts, git-ignored).
package chromium

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// Install is how CI and developers get the browser on Debian.
const Install = "apt-get update && apt-get install -y chromium"

// Path finds chromium. A missing browser fails the test, never skips it:
// CI must not pass without running the browser tests.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("chromium is not installed: the browser tests need Debian's chromium package.\n"+
		"Install it with:\n\n\t%s\n\n(as root; this test fails rather than skips so CI cannot pass without a browser)", Install)
	return ""
}

// Options are the allocator options of a headless chromium at path with
// profile as its user data directory and its stdout and stderr to
// output: no sandbox (root in a container), no GPU, and no background
// networking, QUIC, component updates or sync, whose connections the
// closed network refuses. Callers add their own after these.
func Options(path, profile string, output *Output) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 768),
		chromedp.CombinedOutput(output),
	}
}

// WriteArtifact writes data to name in dir (created if missing) and
// returns its absolute path.
func WriteArtifact(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, data, 0o644)
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName makes s safe as a file name.
func FileName(s string) string { return unsafeFileChars.ReplaceAllString(s, "_") }

// Indent indents every line of s by four spaces, for a failure message.
func Indent(s string) string {
	if s == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// Output collects chromium's output, written from another goroutine.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// Tail returns the last n lines, without chromium's complaints about the
// missing D-Bus, which every run has in a container.
func (o *Output) Tail(n int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(o.buf.String(), "\n"), "\n") {
		if !strings.Contains(line, "dbus/") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
