package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// demoCredentials are the credentials of the example configurations
// (examples/*.yaml): the example client's secret and the admin user's
// bcrypt hash (password "password"). They are public, so a Lambda build
// that bundles any of them would publish a provider anyone can log in to.
// TestDemoCredentialsCoverExamples keeps the list in step with examples/.
var demoCredentials = []string{
	"ZXhhbXBsZS1hcHAtc2VjcmV0",
	"$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W",
}

// errDemoConfig is the error of a build refused for its demo credentials.
var errDemoConfig = errors.New("the configuration holds the public demo credentials; refusing to build for Lambda (set CONFIG to your configuration, or ALLOW_DEMO_CONFIG=1 / -allow-demo-config for a throwaway test)")

// checkDemo refuses a configuration that holds a demo credential unless
// allow is set. The reason goes to stdout as well as in the error, because
// `sam build` shows the Makefile's stdout, not its stderr, when make fails
// (and nothing at all when it succeeds, which is why a warning was not
// enough). With allow, the warning goes to both.
func checkDemo(path string, config []byte, allow bool, stdout, stderr io.Writer) error {
	var found int
	for _, c := range demoCredentials {
		if bytes.Contains(config, []byte(c)) {
			found++
		}
	}
	if found == 0 {
		return nil
	}
	if !allow {
		fmt.Fprintf(stdout, "buildfunctions: %s: %v\n", path, errDemoConfig)
		return fmt.Errorf("%s: %w", path, errDemoConfig)
	}
	msg := fmt.Sprintf("buildfunctions: WARNING: bundling %s, whose client secret and password are public (allowed by -allow-demo-config): never deploy this where anyone can reach it\n", path)
	io.WriteString(stdout, msg)
	io.WriteString(stderr, msg)
	return nil
}
