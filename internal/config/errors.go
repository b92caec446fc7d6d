package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in the configuration. Parse, Load and FromEnvironment
// return a single *Error, or several joined with errors.Join (one per line,
// in file order); errors.As finds the first.
//
// The message never contains a client secret or a password hash.
type Error struct {
	File string // configuration file name as given; empty when Env is set
	Line int    // 1-based line in File; 0 when the key is absent from the file
	// Column is the 1-based column on Line where the key (or the list
	// item, or the value) starts; 0 when Line is. Error does not print it.
	Column int
	Env    string // environment variable the value came from, if any
	Path   string // key path, like staticClients[1].redirectURIs[0]; may be empty
	Msg    string
}

// Error formats the problem as "file:line: path: message", or
// "VARIABLE: path: message" when the value came from the environment.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString(e.Env)
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	default:
		b.WriteString(e.File)
	}
	if e.Path != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Path)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Warning is a key that loads but has no effect in this deployment (Dex's
// TLS listener, telemetry, gRPC, …), or a value that changes nothing (PKCE's
// plain method). Parse returns them in Config.Warnings, in file order; the
// composition root logs each once at start. Its fields are those of Error.
type Warning Error

// String formats the warning as Error does: "file:line: path: message".
func (w Warning) String() string {
	e := Error(w)
	return e.Error()
}

// where is the origin of a value: a line and column of the file, or an
// environment variable that overrode it.
type where struct {
	line, col int
	env       string
}

// joinErrors orders errors as they appear in the file (environment first),
// drops exact duplicates and joins them, one per line.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Compare(a.Line, b.Line)
	})
	seen := make(map[string]bool, len(errs))
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		s := e.Error()
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// parentPath returns the path one level up: "a.b[1]" → "a.b" → "a" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// hasPrefixPath reports whether p is prefix or lies below it.
func hasPrefixPath(p, prefix string) bool {
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	rest := p[len(prefix):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// add records a problem at the origin of path p.
func (d *decoder) add(p, msg string) {
	d.addAt(d.at(p), p, msg)
}

func (d *decoder) addAt(w where, p, msg string) {
	e := d.problem(w, p, msg)
	d.errs = append(d.errs, &e)
}

// problem is msg about path p at origin w, as an Error or a Warning.
func (d *decoder) problem(w where, p, msg string) Error {
	e := Error{Path: p, Msg: msg}
	if w.env != "" {
		e.Env = w.env
	} else {
		e.File, e.Line, e.Column = d.file, w.line, w.col
	}
	return e
}
