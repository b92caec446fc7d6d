package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// MotoInstallHint is the command that installs moto_server (moto 5.2.1 is
// what CI uses).
const MotoInstallHint = "pip install 'moto[server]'"

// motoStartTimeout bounds startup; moto_server is usually ready in about one
// second, a cold Python import cache can make it a few.
const motoStartTimeout = 30 * time.Second

// motoListening is werkzeug's startup line, which names the port moto_server
// chose.
var motoListening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// LaunchMoto starts moto_server, the KMS stand-in, on 127.0.0.1 with a port
// it chooses (-p 0; the port is read from its "Running on" line, so there is
// no window in which another process can take it), and returns it once it
// answers HTTP. The caller MUST call Stop.
func LaunchMoto() (*Process, error) {
	return Launch(Spec{
		Name:        "moto_server",
		Command:     "moto_server",
		InstallHint: MotoInstallHint,
		Args: func(port int) []string {
			return []string{"-H", "127.0.0.1", "-p", fmt.Sprint(port)}
		},
		Announce:     motoListening,
		Ready:        motoReady,
		StartTimeout: motoStartTimeout,
	})
}

// motoReady succeeds once moto_server answers its index page.
func motoReady(client *http.Client, endpoint string) error {
	resp, err := client.Get(endpoint + "/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
