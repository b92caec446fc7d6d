package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Backend is a storage: or signer: section: the type names a backend in a
// table of backends (see internal/backend), and the backend decodes its own
// settings from Config.
type Backend struct {
	Type   string  `yaml:"type"`
	Config Section `yaml:"config"`

	key    string // "storage" or "signer"
	def    string // the default type, named first among the known ones
	file   string
	typeAt where
}

// CheckType returns nil if the type is one of known (a backend table's
// names), and otherwise an *Error at the line of type: Dex's types this
// provider does not implement say so, any other is unknown.
func (b Backend) CheckType(known []string) error {
	if slices.Contains(known, b.Type) {
		return nil
	}
	names := slices.Sorted(slices.Values(known))
	if i := slices.Index(names, b.def); i > 0 {
		names = append([]string{b.def}, slices.Delete(names, i, i+1)...)
	}
	list := ""
	if len(names) > 0 {
		list = " (" + orList(names) + ")"
	}
	msg := fmt.Sprintf("unknown %s type %q%s", b.kind(), b.Type, list)
	if _, ok := unsupported[join(b.key, "type")+"="+b.Type]; ok {
		msg = fmt.Sprintf("%q is not supported by this provider%s", b.Type, list)
	}
	e := &Error{Path: join(b.key, "type"), Msg: msg}
	if b.typeAt.env != "" {
		e.Env = b.typeAt.env
	} else {
		e.File, e.Line, e.Column = b.file, b.typeAt.line, b.typeAt.col
	}
	return e
}

// kind names the backend for messages: "storage", "signer", or "backend"
// for a Backend built by hand.
func (b Backend) kind() string {
	if b.key == "" {
		return "backend"
	}
	return b.key
}

// Section is a backend's config: block, kept as YAML until the backend
// decodes it into its own struct. It knows where it came from (a file and
// line, or the environment variable that replaced it) so that a backend's
// errors read like every other configuration error.
type Section struct {
	node    ast.Node // nil when the section is absent or null
	file    string
	path    string // key path, like storage.config
	at      where  // the line of config:, or of its parent key when absent, or an env variable
	getenv  func(string) string
	anchors map[string]ast.Node
	// connector: a connectors[].config section, whose every string value
	// is expanded ($VAR, a missing variable an error) and may name a
	// secret (see Connector).
	connector bool
	secrets   func(ref string) (string, error)
}

// WithSecrets returns the section with the reader of its
// secretsmanager: values (see Connector): ref is the text after the
// prefix. The composition root passes one reader per cold start, which
// reads each secret once. Without it such a value is an error.
func (s Section) WithSecrets(read func(ref string) (string, error)) Section {
	s.secrets = read
	return s
}

// Validator is implemented by a backend's config struct to check values
// beyond their kinds. It calls report with a key relative to the section
// (like "table" or "keys[1]") and a message.
type Validator interface {
	Validate(report func(key, msg string))
}

// Decode decodes the section into v, a pointer to the backend's own tagged
// config struct, as strictly as the rest of the file: an unknown key or a
// value of the wrong kind is an error naming the file, line and key path.
// If v is a Validator, Decode then calls Validate and turns each report
// into an error at that key (at the section's line when the key is
// absent). The result is nil, one *Error, or several joined, one per line.
func (s Section) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: Section.Decode needs a non-nil pointer, not %T", v)
	}
	d := newDecoder(s.file, s.getenv)
	if s.anchors != nil {
		d.anchors = s.anchors
	}
	d.env = s.at.env
	if s.connector {
		d.connector = &connectorValues{getenv: s.getenv, secrets: s.secrets}
	}
	d.pos[s.path] = s.at
	d.decode(d.value(s.node, rv.Type().Elem(), s.path, field{}), v)
	if val, ok := v.(Validator); ok {
		val.Validate(func(key, msg string) { validator{d}.fail(join(s.path, key), "%s", msg) })
	}
	return joinErrors(d.errs)
}

// envSection is a section whose one key comes from environment variable
// env. The value is built as a syntax tree, never parsed: it is exactly
// what the variable says.
func envSection(path, env, key string, value ast.Node) Section {
	m := &ast.MappingNode{BaseNode: &ast.BaseNode{}, Values: []*ast.MappingValueNode{
		{BaseNode: &ast.BaseNode{}, Key: plainString(key), Value: value},
	}}
	return Section{node: m, path: path, at: where{env: env}}
}

func plainString(s string) *ast.StringNode {
	return stringNode(&token.Token{Type: token.StringType, Value: s, Origin: s}, s)
}

func plainStrings(list []string) *ast.SequenceNode {
	seq := &ast.SequenceNode{BaseNode: &ast.BaseNode{}}
	for _, s := range list {
		seq.Values = append(seq.Values, plainString(s))
	}
	return seq
}

// bindBackend tells b, after decoding and overrides, where its parts came
// from; key is "storage" or "signer", def its default type.
func (d *decoder) bindBackend(b *Backend, key, def string) {
	b.key, b.def, b.file = key, def, d.file
	b.typeAt = d.at(join(key, "type"))
	s := &b.Config
	s.file, s.path, s.at = d.file, join(key, "config"), d.at(join(key, "config"))
	if s.at.env == "" {
		s.node, s.getenv, s.anchors = d.raw[s.path], d.getenv, d.anchors
	}
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
