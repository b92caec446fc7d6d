package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMotoServes(t *testing.T) {
	m, err := LaunchMoto()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if err := motoReady(&http.Client{Timeout: 2 * time.Second}, m.Endpoint); err != nil {
		t.Fatalf("moto_server does not answer: %v", err)
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
