package emulator

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("EMULATOR_TEST_ORPHAN") == "1" {
		orphanMoto()
		return
	}
	code := m.Run()
	StopSharedMoto()
	os.Exit(code)
}

func motoGet(endpoint string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(endpoint + "/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// waitDown polls until endpoint refuses connections.
func waitMotoDown(t *testing.T, endpoint string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if motoGet(endpoint) != nil {
			return
		}
	}
	t.Fatalf("moto_server at %s still answers", endpoint)
}

func TestLaunchAndStop(t *testing.T) {
	m, err := LaunchMoto()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("moto_server startup: %v", m.Startup)
	if !strings.HasPrefix(m.Endpoint, "http://127.0.0.1:") {
		t.Errorf("endpoint %q; want http://127.0.0.1:PORT", m.Endpoint)
	}
	if err := motoGet(m.Endpoint); err != nil {
		t.Fatalf("moto_server does not answer: %v", err)
	}
	if err := m.Stop(); err != nil {
		t.Error(err)
	}
	if err := m.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	waitMotoDown(t, m.Endpoint)
}

func TestStartMotoCleanup(t *testing.T) {
	var endpoint string
	t.Run("inner", func(t *testing.T) {
		endpoint = StartMoto(t)
		if err := motoGet(endpoint); err != nil {
			t.Fatal(err)
		}
	})
	waitMotoDown(t, endpoint) // stopped by the inner test's Cleanup
}

func TestSharedMotoIsShared(t *testing.T) {
	a, b := SharedMoto(t), SharedMoto(t)
	if a != b {
		t.Fatalf("SharedMoto returned %s then %s; want one server", a, b)
	}
	if err := motoGet(a); err != nil {
		t.Fatal(err)
	}
}

func TestMissingMotoFailsWithInstallHint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := LaunchMoto()
	if err == nil {
		t.Fatal("LaunchMoto succeeded without moto_server on PATH")
	}
	if !strings.Contains(err.Error(), MotoInstallHint) {
		t.Errorf("error %q does not say to run %s", err, MotoInstallHint)
	}
}

// orphanMoto is the child of TestNoLeakWhenBinaryDies: it starts moto_server,
// reports the endpoint and exits without stopping it, as a test binary does
// when a test times out.
func orphanMoto() {
	m, err := LaunchMoto()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(m.Endpoint)
	os.Exit(0)
}

func TestNoLeakWhenBinaryDies(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EMULATOR_TEST_ORPHAN=1")
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
	if !strings.HasPrefix(endpoint, "http://") {
		t.Fatalf("child did not start moto_server: %q", line)
	}
	waitMotoDown(t, endpoint)
}
