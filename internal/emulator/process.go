package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec describes a server for Launch.
type Spec struct {
	// Name names the server in messages, e.g. "DynamoDB Local".
	Name string
	// Command is the executable (looked up on PATH) and InstallHint the
	// command that installs it, for the error when it is missing.
	Command, InstallHint string
	// Args returns the arguments that make Command serve HTTP on
	// 127.0.0.1:port.
	Args func(port int) []string
	// Dir is the working directory; empty for the current one.
	Dir string
	// Announce, if set, matches the output line that names the server's
	// base URL (its first submatch). The server is then given port 0 and
	// chooses its own, so no other process can take the port between its
	// choice and the bind. Without it Launch chooses a free port, and tries
	// another if the server exits during startup (someone took it).
	Announce *regexp.Regexp
	// Ready returns nil once the server at endpoint serves requests.
	Ready func(client *http.Client, endpoint string) error
	// StartTimeout bounds the wait until the server is ready.
	StartTimeout time.Duration
}

// Process is a running server that Launch started.
type Process struct {
	// Name is Spec.Name.
	Name string
	// Endpoint is the server's base URL, http://127.0.0.1:PORT; use it as
	// the SDK client's BaseEndpoint (any region, any static credentials).
	Endpoint string
	// Startup is how long the server took to answer.
	Startup time.Duration

	cmd    *exec.Cmd
	stdin  *os.File // closing it makes the watchdog stop the server
	exited chan struct{}
	log    *tailLog
	once   sync.Once
	err    error
}

// stopTimeout bounds the wait for a server to exit on SIGTERM, after which
// Stop kills it.
const stopTimeout = 10 * time.Second

// watchdog runs the server ("$@") in the background and kills it when its
// own stdin (a pipe held by the parent) reaches EOF: on Stop, and also when
// the parent exits for any reason (a test timeout panics past every Cleanup
// and TestMain; the kernel still closes the pipe). The shell exits with the
// server's status when the server exits on its own, so an early crash is
// seen at once. A non-interactive shell gives background jobs /dev/null as
// stdin, hence the saved descriptor 3, which the server does not inherit;
// the watcher's output goes to /dev/null so that it does not hold the
// output pipe open.
const watchdog = `exec 3<&0
"$@" </dev/null 3<&- &
pid=$!
(read -r _ <&3; kill -TERM "$pid") >/dev/null 2>&1 &
wait "$pid"`

var errExitedEarly = errors.New("exited during startup")

// Launch starts the server spec describes, waits until it is ready, and
// returns it. The caller MUST call Stop.
func Launch(spec Spec) (*Process, error) {
	if _, err := exec.LookPath(spec.Command); err != nil {
		return nil, fmt.Errorf("emulator: %s needs %s, which is not installed (%v); run `%s`",
			spec.Name, spec.Command, err, spec.InstallHint)
	}
	var errs []error
	for range 3 {
		p, err := launch(spec)
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
		if spec.Announce != nil || !errors.Is(err, errExitedEarly) {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// launch is one attempt of Launch.
func launch(spec Spec) (*Process, error) {
	port := 0
	if spec.Announce == nil {
		var err error
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
	}
	start := time.Now()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	log := newTailLog(spec.Announce)
	cmd := exec.Command("sh", append([]string{"-c", watchdog, "sh", spec.Command}, spec.Args(port)...)...)
	cmd.Dir = spec.Dir
	cmd.Stdin = r
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Stop can kill the whole group
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("emulator: start %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, cmd: cmd, stdin: w, exited: make(chan struct{}), log: log}
	if port != 0 {
		p.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if err := p.waitReady(spec); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("emulator: %s %w; output:\n%s", spec.Name, err, log.tail())
	}
	p.Startup = time.Since(start)
	return p, nil
}

// waitReady waits for the announced endpoint, if the server announces it,
// then polls spec.Ready until it succeeds.
func (p *Process) waitReady(spec Spec) error {
	deadline := time.NewTimer(spec.StartTimeout)
	defer deadline.Stop()
	if p.Endpoint == "" {
		select {
		case p.Endpoint = <-p.log.announced:
		case <-p.exited:
			return fmt.Errorf("%w (%v)", errExitedEarly, p.cmd.ProcessState)
		case <-deadline.C:
			return fmt.Errorf("did not announce its address within %v", spec.StartTimeout)
		}
	}
	client := &http.Client{Timeout: time.Second}
	for {
		err := spec.Ready(client, p.Endpoint)
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w (%v)", errExitedEarly, p.cmd.ProcessState)
		case <-deadline.C:
			return fmt.Errorf("does not answer at %s within %v (%v)", p.Endpoint, spec.StartTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the server and waits for it to exit. It is idempotent.
func (p *Process) Stop() error {
	p.once.Do(func() {
		_ = p.stdin.Close() // the watchdog sends SIGTERM to the server
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			// The negative pid names the process group we created.
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
			p.err = fmt.Errorf("emulator: %s ignored SIGTERM; killed", p.Name)
		}
	})
	return p.err
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailLogLines is how many lines of a server's output a tailLog keeps.
const tailLogLines = 40

// tailLog drains a server's output (moto_server logs every request, so an
// undrained pipe would block it), keeps the last lines for error messages
// and reports the first submatch of the announce pattern, if any, once.
type tailLog struct {
	mu        sync.Mutex
	partial   []byte
	lines     []string
	announce  *regexp.Regexp
	announced chan string
}

func newTailLog(announce *regexp.Regexp) *tailLog {
	return &tailLog{announce: announce, announced: make(chan string, 1)}
}

func (l *tailLog) Write(p []byte) (int, error) {
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
		if l.announce != nil {
			if m := l.announce.FindStringSubmatch(line); m != nil {
				l.announce = nil
				l.announced <- m[1]
			}
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > tailLogLines {
			l.lines = l.lines[len(l.lines)-tailLogLines:]
		}
	}
	return len(p), nil
}

func (l *tailLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(append(l.lines, string(l.partial)), "\n")
}
