// Command oidc-local runs the whole OpenID Provider in one process: every
// endpoint on one listener, with the storage and signer the config names
// (in-memory storage and a generated key by default). It is `make run`.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/backend/awsdefault"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector/secretsmanager"
	"github.com/serverless-oidc/op/internal/connectors"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func main() {
	configPath := flag.String("config", "examples/config.dev.yaml", "path of the YAML config file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *configPath, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "oidc-local:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, if not nil, receives the bound address.
func run(ctx context.Context, configPath string, out io.Writer, ready chan<- string) error {
	cfg, err := config.Load(configPath, os.Getenv)
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg.Logger, out)
	provider, err := app.New(ctx, cfg, logger, app.Backends{Storage: store.Backends, Signer: signer.Backends,
		Connectors: connectors.Types, Secrets: secretsmanager.Reader(awsdefault.Config)})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Web.HTTP)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(logger, provider.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(out, "OpenID Provider listening on %s\n  issuer:    %s\n  discovery: %s\n", ln.Addr(), cfg.Issuer, provider.URL(oidc.PathDiscovery))
	if usesDemoCredentials(cfg) {
		fmt.Fprintf(out, "  demo login: %s / password; client %s / %s (public demo values: never deploy them)\n", demoUser, demoClient, demoSecret)
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// The familiar demo values of examples/config.dev.yaml (Dex's).
const (
	demoUser   = "admin@example.com"
	demoClient = "example-app"
	demoSecret = "ZXhhbXBsZS1hcHAtc2VjcmV0"
)

// usesDemoCredentials reports whether cfg is the demo: then the banner shows
// how to log in.
func usesDemoCredentials(cfg *config.Config) bool {
	for _, c := range cfg.StaticClients {
		if c.ID == demoClient && c.Secret == demoSecret {
			return true
		}
	}
	return false
}

// logRequests gives each request a fresh request id and logs one structured
// line for it: at DEBUG, or at WARN when the answer is a server error (5xx),
// so that at the default level (info) a successful request writes nothing
// and log volume stays bounded (docs/lambda.md, "Log volume and cost");
// errors and security events are logged where they happen. It logs the
// path only: queries and bodies can carry codes and passwords.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		r = r.WithContext(oidc.WithRequestID(r.Context(), id))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= http.StatusInternalServerError {
			level = slog.LevelWarn
		}
		logger.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
