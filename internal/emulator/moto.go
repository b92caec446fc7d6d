// moto_server, the KMS stand-in (see the package comment in dynamodb.go).
//
// A missing emulator is a test FAILURE with the command that installs it,
// never a skip: a green run must mean the real component was exercised.

package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MotoInstallHint is the command that installs moto_server.
const MotoInstallHint = "pip install 'moto[server]'"

// motoStartTimeout bounds startup; moto_server is usually ready in about one
// second, a cold Python import cache can make it a few.
const motoStartTimeout = 30 * time.Second

// motoWatchdog runs moto_server ("$@") in the background and kills it when
// its own stdin (a pipe held by the test binary) reaches EOF: on Stop, and
// also when the test binary exits for any reason (a test timeout panics
// past every Cleanup and TestMain; the kernel still closes the pipe). The
// shell exits when moto_server does, so an early crash is seen at once.
// A non-interactive shell gives background jobs /dev/null as stdin, hence
// the saved descriptor 3.
const motoWatchdog = `exec 3<&0
moto_server "$@" &
pid=$!
(read -r _ <&3; kill -TERM "$pid") >/dev/null 2>&1 &
wait "$pid"`

var motoListening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// Moto is a running moto_server.
type Moto struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT; use it as
	// the SDK client's BaseEndpoint.
	Endpoint string
	// Startup is how long the server took to answer.
	Startup time.Duration

	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{} // closed when the process has exited
	log    *motoLog
	once   sync.Once
}

// LaunchMoto starts moto_server on 127.0.0.1 with a port the kernel chooses
// (-p 0; the port is read from the server's "Running on" line, so there is
// no window in which another process can take it), waits until it answers
// HTTP, and returns it. The caller MUST call Stop. Tests use StartMoto or
// SharedMoto instead.
func LaunchMoto() (*Moto, error) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, fmt.Errorf("emulator: moto_server is not installed (%v); run `%s` (moto 5.2.1 is what CI uses)", err, MotoInstallHint)
	}
	start := time.Now()
	log := &motoLog{listening: make(chan string, 1)}
	cmd := exec.Command("sh", "-c", motoWatchdog, "sh", "-H", "127.0.0.1", "-p", "0")
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Stop can kill the whole group
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("emulator: start moto_server: %w", err)
	}
	m := &Moto{cmd: cmd, stdin: stdin, exited: make(chan struct{}), log: log}
	go func() { _ = cmd.Wait(); close(m.exited) }()

	deadline := time.NewTimer(motoStartTimeout)
	defer deadline.Stop()
	select {
	case m.Endpoint = <-log.listening:
	case <-m.exited:
		return nil, fmt.Errorf("emulator: moto_server exited during startup (%v); output:\n%s", cmd.ProcessState, log.tail())
	case <-deadline.C:
		_ = m.Stop()
		return nil, fmt.Errorf("emulator: moto_server did not start within %v; output:\n%s", motoStartTimeout, log.tail())
	}
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(m.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				m.Startup = time.Since(start)
				return m, nil
			}
		}
		select {
		case <-m.exited:
			return nil, fmt.Errorf("emulator: moto_server exited during startup; output:\n%s", log.tail())
		case <-deadline.C:
			_ = m.Stop()
			return nil, fmt.Errorf("emulator: moto_server at %s does not answer (%v); output:\n%s", m.Endpoint, err, log.tail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the server and waits for it to exit. It is idempotent.
func (m *Moto) Stop() error {
	var err error
	m.once.Do(func() {
		_ = m.stdin.Close() // the watchdog sends SIGTERM to moto_server
		select {
		case <-m.exited:
		case <-time.After(5 * time.Second):
			// The negative pid names the process group we created.
			_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.exited
			err = errors.New("emulator: moto_server ignored SIGTERM; killed")
		}
	})
	return err
}

// StartMoto starts a moto_server for this test alone and stops it when the
// test ends; it returns the endpoint. It fails tb (never skips) if
// moto_server is missing. Startup costs about a second, so packages with
// many tests use SharedMoto.
func StartMoto(tb testing.TB) (endpoint string) {
	tb.Helper()
	m, err := LaunchMoto()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("moto_server ready at %s in %v", m.Endpoint, m.Startup.Round(time.Millisecond))
	tb.Cleanup(func() {
		if err := m.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return m.Endpoint
}

var sharedMoto struct {
	mu   sync.Mutex
	moto *Moto
	err  error
}

// SharedMoto returns the endpoint of the one moto_server of this test
// binary, starting it on first use (tests that do not ask for it cost
// nothing). A failed start fails every caller, never skips. Tests that share
// it MUST NOT depend on global state: they create their own keys and use
// unique alias names.
//
// The server dies with the test binary in any case; a TestMain that calls
// StopSharedMoto after m.Run just stops it sooner and cleanly:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		emulator.StopSharedMoto()
//		os.Exit(code)
//	}
func SharedMoto(tb testing.TB) (endpoint string) {
	tb.Helper()
	sharedMoto.mu.Lock()
	defer sharedMoto.mu.Unlock()
	if sharedMoto.moto == nil && sharedMoto.err == nil {
		sharedMoto.moto, sharedMoto.err = LaunchMoto()
		if sharedMoto.err == nil {
			tb.Logf("shared moto_server ready at %s in %v", sharedMoto.moto.Endpoint, sharedMoto.moto.Startup.Round(time.Millisecond))
		}
	}
	if sharedMoto.err != nil {
		tb.Fatal(sharedMoto.err)
	}
	return sharedMoto.moto.Endpoint
}

// StopSharedMoto stops the server SharedMoto started, if any.
func StopSharedMoto() {
	sharedMoto.mu.Lock()
	defer sharedMoto.mu.Unlock()
	if sharedMoto.moto != nil {
		_ = sharedMoto.moto.Stop()
	}
}

// motoLog drains the server's output (werkzeug logs every request, so an
// undrained pipe would block the server), reports the listening URL once and
// keeps the last lines for error messages.
type motoLog struct {
	mu        sync.Mutex
	partial   []byte
	lines     []string
	listening chan string
	found     bool
}

func (l *motoLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if !l.found {
			if m := motoListening.FindStringSubmatch(line); m != nil {
				l.found = true
				l.listening <- m[1]
			}
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > 40 {
			l.lines = l.lines[len(l.lines)-40:]
		}
	}
	return len(p), nil
}

func (l *motoLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(append(l.lines, string(l.partial)), "\n")
}
