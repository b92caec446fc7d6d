package app

import (
	"io"
	"log/slog"
	"strings"

	"github.com/serverless-oidc/op/internal/config"
)

// NewLogger builds the structured logger the config asks for.
func NewLogger(c config.Logger, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.ToLower(c.Format) == "json" {
		opts.ReplaceAttr = lambdaTimestamp
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// lambdaTimestamp names the time of a JSON line "timestamp" (RFC 3339),
// the key Lambda's log-level filtering reads: a line whose timestamp it
// cannot find counts as INFO whatever its "level", so with the function's
// ApplicationLogLevel at WARN or above slog's "time" would drop every
// WARN and ERROR line (Lambda developer guide, log-level filtering).
func lambdaTimestamp(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		a.Key = "timestamp"
	}
	return a
}

// functionLogger builds a function's logger; see NewFunction.
func functionLogger(c config.Logger, inLambda bool, getenv func(string) string, w io.Writer, function string) *slog.Logger {
	if inLambda {
		c.Format = "json"
		if lvl := lambdaLevel(getenv(EnvLambdaLogLevel)); lvl != "" {
			c.Level = lvl
		}
	}
	return NewLogger(c, w).With(slog.String("function", function))
}

// lambdaLevel maps a Lambda application log level to ours ("" if unset or
// unknown).
func lambdaLevel(v string) string {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "TRACE", "DEBUG":
		return "debug"
	case "INFO":
		return "info"
	case "WARN":
		return "warn"
	case "ERROR", "FATAL":
		return "error"
	}
	return ""
}
