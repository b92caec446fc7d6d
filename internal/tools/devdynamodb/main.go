// Command devdynamodb runs the local server on Amazon DynamoDB Local: it
// starts DynamoDB Local (in memory, on a free port), exports its address as
// OIDC_DEV_DYNAMODB_ENDPOINT (examples/config.dynamodb.yaml reads it), runs
// cmd/oidc-local with the given arguments, and stops DynamoDB Local when the
// server exits or on Ctrl-C. It is `make run-dynamodb`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/serverless-oidc/op/internal/emulator"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ddb, err := emulator.LaunchDynamoDBLocal()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devdynamodb:", err)
		return 1
	}
	defer ddb.Stop()
	fmt.Printf("DynamoDB Local (in memory) at %s\n", ddb.Endpoint)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "./cmd/oidc-local"}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"OIDC_DEV_DYNAMODB_ENDPOINT="+ddb.Endpoint,
		// DynamoDB Local accepts any credentials; the SDK needs some.
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "devdynamodb:", err)
		return 1
	}
	return 0
}
