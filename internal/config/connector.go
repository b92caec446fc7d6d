package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// ConnectorTypes are the connector types this provider implements: the
// names of the connector table (internal/connectors.Types, whose test
// checks that the two agree). Parse refuses any other type, so that every
// function, even one that opens no connector, refuses a config that the
// authorize function could not serve.
var ConnectorTypes = []string{"github", "oauth", "oidc"}

// SecretsManagerPrefix starts a connector value read from AWS Secrets
// Manager at cold start: "secretsmanager:<secret id or ARN>" is the
// secret's string, "secretsmanager:<id>#<key>" the string value of key in
// the secret's JSON object. It works after $VAR expansion, so that the
// reference itself can come from the environment.
const SecretsManagerPrefix = "secretsmanager:"

// Connector is one entry of Dex's connectors list: an upstream identity
// provider. Config is decoded by the type's opener (internal/connectors),
// like a backend's section, except that every string value in it is
// expanded as Dex expands it ($VAR and ${VAR}; a variable that is unset
// or empty is an error naming the key and the variable, where Dex would
// use an empty string) and may then be a secretsmanager: reference.
type Connector struct {
	Type   string  `yaml:"type"` // one of ConnectorTypes
	ID     string  `yaml:"id"`   // in subjects, allowedConnectors, connector_id; unique, not local
	Name   string  `yaml:"name"` // on the login page; default the id
	Config Section `yaml:"config"`
	// UpstreamRefresh asks the upstream about the user again at every
	// refresh, when the type can (default true), so that a user removed
	// upstream loses access and groups stay current. false keeps what the
	// login found until the refresh token expires, as Dex's connectors
	// without refresh do. Ours.
	UpstreamRefresh bool `yaml:"upstreamRefresh"`

	file   string
	typeAt where
}

// CheckType returns nil if the connector's type is one of known (a
// connector table's names), and otherwise an *Error at the line of type.
func (c Connector) CheckType(known []string) error {
	msg := typeProblem(c.Type, known)
	if msg == "" {
		return nil
	}
	e := &Error{Path: "connectors[].type", Msg: msg, File: c.file, Line: c.typeAt.line, Column: c.typeAt.col}
	if c.Config.path != "" {
		e.Path = parentPath(c.Config.path) + ".type"
	}
	return e
}

// typeProblem says why typ is not one of known, or returns "".
func typeProblem(typ string, known []string) string {
	names := orList(slices.Sorted(slices.Values(known)))
	switch why, dex := unsupported["connectors[].type="+typ]; {
	case slices.Contains(known, typ):
		return ""
	case len(known) == 0:
		return fmt.Sprintf("connector type %q: this program opens no connector", typ)
	case typ == "":
		return "required: the connector type (" + names + ")"
	case dex && why != "":
		return fmt.Sprintf("%q is not supported by this provider (%s)", typ, why)
	case dex:
		return fmt.Sprintf("%q is not supported by this provider (%s)", typ, names)
	}
	return fmt.Sprintf("unknown connector type %q (%s)", typ, names)
}

// bindConnectors tells each connector, after decoding, where its parts
// came from, and applies its defaults.
func (d *decoder) bindConnectors(c *Config) {
	for i := range c.Connectors {
		cn := &c.Connectors[i]
		p := fmt.Sprintf("connectors[%d]", i)
		cn.file, cn.typeAt = d.file, d.at(p+".type")
		s := &cn.Config
		s.file, s.path, s.at = d.file, p+".config", d.at(p+".config")
		s.node, s.getenv, s.anchors, s.connector = d.raw[s.path], d.getenv, d.anchors, true
		if !d.set[p+".upstreamRefresh"] {
			cn.UpstreamRefresh = true
		}
		setDefault(&cn.Name, cn.ID)
	}
}

// connectorValues are what the strings of a connector's section are read
// with: the environment, and the reader of AWS Secrets Manager's values.
type connectorValues struct {
	getenv  func(string) string
	secrets func(ref string) (string, error)
}

// value expands s, a string of a connector's section, and reads the
// secret it names, if any. A variable that is unset or empty, or a
// secret that cannot be read, is an error.
func (cv connectorValues) value(s string) (string, error) {
	s, missing := expandEnv(s, cv.getenv)
	if missing != "" {
		return "", fmt.Errorf("environment variable %q is unset or empty", missing)
	}
	ref, ok := strings.CutPrefix(s, SecretsManagerPrefix)
	switch {
	case !ok:
		return s, nil
	case cv.secrets == nil:
		return "", fmt.Errorf("%s%s: this program reads no secret from AWS Secrets Manager (the authorize and token functions do)", SecretsManagerPrefix, ref)
	}
	return cv.secrets(ref)
}

// expandEnv replaces $VAR and ${VAR} in s as os.ExpandEnv does, and
// returns the first variable that is unset or empty.
func expandEnv(s string, getenv func(string) string) (out, missing string) {
	out = os.Expand(s, func(name string) string {
		v := ""
		if getenv != nil {
			v = getenv(name)
		}
		if v == "" && missing == "" {
			missing = name
		}
		return v
	})
	return out, missing
}

// validateConnectorList checks each connector: a known type, and an id
// that is set, unique, not the password database's, and fit for a path
// segment (/callback/<id>); a redirectURI, where the section sets one, is
// this provider's callback.
func (v validator) validateConnectorList(c *Config) {
	seen := map[string]string{}
	for i, cn := range c.Connectors {
		p := fmt.Sprintf("connectors[%d]", i)
		if msg := typeProblem(cn.Type, ConnectorTypes); msg != "" {
			v.fail(p+".type", "%s", msg)
		}
		switch id := cn.ID; {
		case id == "":
			v.fail(p+".id", "required: the connector's id, in its users' subjects and in allowedConnectors")
		case id == oidc.ConnectorLocal:
			v.fail(p+".id", "%s is the password database's id (enablePasswordDB: true adds it); choose another", id)
		case strings.ContainsFunc(id, func(r rune) bool { return r == '/' || !unicode.IsPrint(r) || unicode.IsSpace(r) }):
			v.fail(p+".id", "%q: an id has no slash, space or control character (it ends the callback path /callback/<id>)", id)
		case seen[id] != "":
			v.fail(p+".id", "duplicate connector id %q (also %s)", id, seen[id])
		default:
			seen[id] = p
		}
		v.validateConnectorRedirect(c.Issuer, cn)
	}
}

// validateConnectorRedirect checks the redirectURI of a connector's section
// (oidc, oauth and github all have the key): the upstream sends the browser
// there, so it must be this provider's callback, issuer/callback (Dex's) or
// issuer/callback/<id>. A value that names an unset variable or a secret
// is left to the opener, which reports it.
func (v validator) validateConnectorRedirect(issuer string, cn Connector) {
	s := cn.Config
	m, ok := v.d.deref(s.node).(*ast.MappingNode)
	if !ok {
		return
	}
	for _, e := range v.d.entries(m, s.path, 0) {
		n, err := v.d.resolve(e.Value)
		if keyString(e.Key) != "redirectURI" || err != nil || kindOf(n).tag != token.StringTag {
			continue
		}
		var raw string
		if yaml.NodeToValue(n, &raw) != nil {
			continue
		}
		uri, missing := expandEnv(raw, v.d.getenv)
		if missing != "" || strings.HasPrefix(uri, SecretsManagerPrefix) {
			continue
		}
		want := []string{oidc.CallbackURL(issuer, cn.ID), issuer + oidc.PathCallback}
		if !slices.Contains(want, uri) {
			p := join(s.path, "redirectURI")
			v.d.pos[p] = v.d.whereOf(e.Key)
			v.fail(p, "%q is not this provider's callback: use %s (or Dex's %s)", uri, want[0], want[1])
		}
	}
}
