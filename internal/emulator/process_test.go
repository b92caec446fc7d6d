package emulator

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// servers are the emulators the Process tests run, by name.
var servers = []struct {
	name   string
	launch func() (*Process, error)
}{
	{"DynamoDB Local", LaunchDynamoDBLocal},
	{"moto_server", LaunchMoto},
}

// orphanEnv names, in the child of TestNoLeakWhenBinaryDies, the server to
// start and abandon.
const orphanEnv = "EMULATOR_TEST_ORPHAN"

func TestMain(m *testing.M) {
	if name := os.Getenv(orphanEnv); name != "" {
		orphan(name)
	}
	os.Exit(m.Run())
}

// orphan is the child of TestNoLeakWhenBinaryDies: it starts the server
// name, reports the endpoint and exits without stopping it, as a test binary
// does when a test times out.
func orphan(name string) {
	for _, s := range servers {
		if s.name != name {
			continue
		}
		p, err := s.launch()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(p.Endpoint)
		os.Exit(0)
	}
	fmt.Println("error: no server", name)
	os.Exit(1)
}

// accepts reports whether endpoint accepts TCP connections.
func accepts(endpoint string) bool {
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// waitDown polls until endpoint refuses connections.
func waitDown(t *testing.T, endpoint string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !accepts(endpoint) {
			return
		}
	}
	t.Fatalf("%s still accepts connections", endpoint)
}

// TestLaunchAndStop: a launched server answers on loopback; Stop (twice is
// fine) kills the server, not only the watchdog shell, and frees the port.
func TestLaunchAndStop(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p, err := s.launch()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s startup: %v", s.name, p.Startup)
			if p.Name != s.name {
				t.Errorf("Name = %q; want %q", p.Name, s.name)
			}
			if !strings.HasPrefix(p.Endpoint, "http://127.0.0.1:") {
				t.Errorf("Endpoint = %q; want http://127.0.0.1:PORT", p.Endpoint)
			}
			pgid := p.cmd.Process.Pid
			if err := p.Stop(); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if err := p.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			// The watcher may need a moment to notice the closed pipe and exit.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				err := syscall.Kill(-pgid, 0)
				if errors.Is(err, syscall.ESRCH) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("process group %d still alive after Stop (kill 0: %v)", pgid, err)
				}
			}
			waitDown(t, p.Endpoint)
		})
	}
}

// TestNoLeakWhenBinaryDies: a server outlives no parent that exits without
// stopping it.
func TestNoLeakWhenBinaryDies(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), orphanEnv+"="+s.name)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			_ = cmd.Wait()
			endpoint := strings.TrimSpace(line)
			if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
				t.Fatalf("child did not start %s: %q", s.name, line)
			}
			waitDown(t, endpoint)
		})
	}
}

// TestExitedDuringStartup: a server that dies before it answers fails
// Launch with its output; with a port of Launch's choosing, after three
// tries (the port may have been taken).
func TestExitedDuringStartup(t *testing.T) {
	spec := Spec{
		Name:    "failing server",
		Command: "sh",
		Args: func(port int) []string {
			return []string{"-c", "echo cannot bind port $0 >&2; exit 3", fmt.Sprint(port)}
		},
		Ready:        func(*http.Client, string) error { return errors.New("not yet") },
		StartTimeout: 10 * time.Second,
	}
	_, err := Launch(spec)
	if err == nil {
		t.Fatal("Launch succeeded")
	}
	if got := strings.Count(err.Error(), "failing server exited during startup"); got != 3 {
		t.Errorf("Launch error %q: %d tries; want 3", err, got)
	}
	if !strings.Contains(err.Error(), "cannot bind port") {
		t.Errorf("Launch error %q; want the server's output", err)
	}
}

func TestMissingCommand(t *testing.T) {
	_, err := Launch(Spec{Name: "x", Command: "no-such-command-anywhere", InstallHint: "install it"})
	if err == nil || !strings.Contains(err.Error(), "run `install it`") {
		t.Errorf("Launch of a missing command = %v; want an error naming the install hint", err)
	}
}
