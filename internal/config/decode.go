package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// decoder turns the YAML syntax tree into a Config, strictly: every key
// must be known, every value of the right kind. It remembers where each key
// path came from so that validation can name the file and line, and which
// values failed to decode so that validation does not report them twice.
type decoder struct {
	file    string
	getenv  func(string) string
	anchors map[string]ast.Node
	pos     map[string]where // key path → origin of its value
	set     map[string]bool  // key paths present in the file with a non-null value
	bad     map[string]bool  // key paths whose value was rejected
	errs    []*Error
	fatal   bool // the file could not be read as a mapping: skip validation
}

func newDecoder(file string, getenv func(string) string) *decoder {
	return &decoder{
		file:    file,
		getenv:  getenv,
		anchors: map[string]ast.Node{},
		pos:     map[string]where{},
		set:     map[string]bool{},
		bad:     map[string]bool{},
	}
}

// field is one key of a mapping with its value, as handed to a handler.
type field struct {
	key  string
	path string
	line int
	val  ast.Node
}

// handlers decode the known keys of one mapping.
type handlers map[string]func(field)

// at returns the origin of path p, or of its nearest ancestor.
func (d *decoder) at(p string) where {
	for q := p; ; q = parentPath(q) {
		if w, ok := d.pos[q]; ok {
			return w
		}
		if q == "" {
			return where{}
		}
	}
}

// add records a problem at the origin of path p.
func (d *decoder) add(p, msg string) {
	d.addAt(d.at(p), p, msg)
}

func (d *decoder) addAt(w where, p, msg string) {
	e := &Error{Path: p, Msg: msg}
	if w.env != "" {
		e.Env = w.env
	} else {
		e.File, e.Line = d.file, w.line
	}
	d.errs = append(d.errs, e)
}

// errorf reports a value that cannot be decoded and marks it bad.
func (d *decoder) errorf(p, format string, args ...any) {
	d.bad[p] = true
	d.add(p, fmt.Sprintf(format, args...))
}

// isBad reports whether p or one of its ancestors failed to decode.
func (d *decoder) isBad(p string) bool {
	for q := p; ; q = parentPath(q) {
		if d.bad[q] {
			return true
		}
		if q == "" {
			return false
		}
	}
}

// override records that the value at prefix now comes from environment
// variable env, forgetting what the file said below it.
func (d *decoder) override(prefix, env string) {
	for _, m := range []map[string]bool{d.set, d.bad} {
		for p := range m {
			if hasPrefixPath(p, prefix) {
				delete(m, p)
			}
		}
	}
	for p := range d.pos {
		if hasPrefixPath(p, prefix) {
			delete(d.pos, p)
		}
	}
	d.pos[prefix] = where{env: env}
}

// decodeFile parses data and decodes its single document into a Config.
func (d *decoder) decodeFile(data []byte) *Config {
	c := new(Config)
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		d.syntaxError(err)
		d.fatal = true
		return c
	}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			d.addAt(where{line: lineOf(doc.Body)}, "", "only one YAML document is allowed")
			break
		}
		body = doc.Body
	}
	if body == nil {
		return c // an empty file: validation reports what is required
	}
	d.collectAnchors(body)
	if m, ok := d.resolve(body).(*ast.MappingNode); !ok || m == nil {
		d.addAt(where{line: lineOf(body)}, "", "the configuration must be a YAML mapping of keys like issuer: and staticClients:")
		d.fatal = true
		return c
	}
	d.config(body, c)
	return c
}

// syntaxError reports a YAML syntax error with its line, without the
// source excerpt the parser adds (it could show a secret).
func (d *decoder) syntaxError(err error) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		msg := yamlPosition.ReplaceAllString(ye.GetMessage(), "line $1")
		msg = strings.ReplaceAll(msg, "\t", `\t`)
		d.addAt(where{line: line}, "", "invalid YAML: "+msg)
		return
	}
	d.addAt(where{}, "", "invalid YAML: "+firstLine(err.Error()))
}

// yamlPosition matches the parser's "[line:column]" notation.
var yamlPosition = regexp.MustCompile(`\[(\d+):\d+\]`)

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type anchorVisitor struct {
	d       *decoder
	aliases []*ast.AliasNode
}

func (v *anchorVisitor) Visit(n ast.Node) ast.Visitor {
	switch n := n.(type) {
	case *ast.AnchorNode:
		if n.Name != nil && n.Name.GetToken() != nil {
			v.d.anchors[n.Name.GetToken().Value] = n.Value
		}
	case *ast.AliasNode:
		v.aliases = append(v.aliases, n)
	}
	return v
}

// collectAnchors indexes the anchors (&name) so aliases (*name) resolve, and
// reports aliases that name no anchor.
func (d *decoder) collectAnchors(body ast.Node) {
	v := &anchorVisitor{d: d}
	ast.Walk(v, body)
	for _, a := range v.aliases {
		name := aliasName(a)
		if _, ok := d.anchors[name]; !ok {
			d.addAt(where{line: lineOf(a)}, "", fmt.Sprintf("alias *%s names no anchor", name))
		}
	}
}

func aliasName(a *ast.AliasNode) string {
	if a.Value == nil || a.Value.GetToken() == nil {
		return ""
	}
	return a.Value.GetToken().Value
}

// resolve looks through anchors, aliases and tags to the node they denote.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for range 32 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			n = d.anchors[aliasName(v)]
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
	return nil
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// entries lists the keys of a mapping, with merge keys (<<) expanded:
// keys written in the mapping win over merged ones.
func (d *decoder) entries(m *ast.MappingNode, path string, depth int) []field {
	var own, merged []field
	for _, mv := range m.Values {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			v := d.resolve(mv.Value)
			srcs := []ast.Node{v}
			if s, ok := v.(*ast.SequenceNode); ok {
				srcs = s.Values
			}
			for _, s := range srcs {
				sm, ok := d.resolve(s).(*ast.MappingNode)
				if !ok || depth > 8 {
					d.addAt(where{line: lineOf(mv.Key)}, join(path, "<<"), "a merge key needs a mapping or a list of mappings")
					continue
				}
				merged = append(merged, d.entries(sm, path, depth+1)...)
			}
			continue
		}
		own = append(own, field{key: keyString(mv.Key), line: lineOf(mv.Key), val: mv.Value})
	}
	seen := make(map[string]bool, len(own)+len(merged))
	out := make([]field, 0, len(own)+len(merged))
	for _, f := range append(own, merged...) {
		if !seen[f.key] {
			seen[f.key] = true
			out = append(out, f)
		}
	}
	return out
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// object decodes mapping n at path with the given handlers. Keys listed in
// unsupported are Dex's keys this provider does not implement, mapped to a
// short reason; any other key is unknown. Both are errors.
func (d *decoder) object(n ast.Node, path string, h handlers, unsupported map[string]string) {
	var fields []field
	switch m := d.resolve(n).(type) {
	case nil, *ast.NullNode:
		return
	case *ast.MappingNode:
		fields = d.entries(m, path, 0)
	default:
		d.errorf(path, "must be a mapping of keys to values, not %s", kind(m))
		return
	}
	for _, f := range fields {
		f.path = join(path, f.key)
		d.pos[f.path] = where{line: f.line}
		if fn, ok := h[f.key]; ok {
			fn(f)
			continue
		}
		if why, ok := unsupported[f.key]; ok {
			msg := "not supported by this provider"
			if why != "" {
				msg += " (" + why + ")"
			}
			d.add(f.path, msg)
			continue
		}
		msg := "unknown key"
		for k := range h {
			if strings.EqualFold(k, f.key) {
				msg += fmt.Sprintf(" (did you mean %s?)", k)
				break
			}
		}
		d.add(f.path, msg)
	}
}

// value returns the node f denotes, or nil when it is null or empty.
func (d *decoder) value(f field) ast.Node {
	n := d.resolve(f.val)
	if _, ok := n.(*ast.NullNode); ok {
		return nil
	}
	return n
}

func stringValue(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	}
	return "", false
}

// kind names a node's type for messages; it never shows the value.
func kind(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	}
	return "this kind of value"
}

func isScalar(n ast.Node) bool {
	switch n.(type) {
	case *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return true
	}
	return false
}

// str decodes a string. With expand, $VAR and ${VAR} are replaced from the
// environment, as Dex does.
func (d *decoder) str(f field, dst *string, expand bool) {
	n := d.value(f)
	if n == nil {
		return
	}
	s, ok := stringValue(n)
	if !ok {
		if isScalar(n) {
			d.errorf(f.path, "must be a string, not %s (quote the value)", kind(n))
		} else {
			d.errorf(f.path, "must be a string, not %s", kind(n))
		}
		return
	}
	if expand {
		s = os.Expand(s, d.getenv)
	}
	*dst = s
	d.set[f.path] = true
}

// strs decodes a list of strings.
func (d *decoder) strs(f field, dst *[]string, expand bool) {
	var out []string
	d.list(f, func(p string, item ast.Node) {
		var s string
		switch n := d.resolve(item).(type) {
		case nil, *ast.NullNode:
		default:
			v, ok := stringValue(n)
			if !ok {
				d.errorf(p, "must be a string, not %s", kind(n))
			}
			s = v
		}
		if expand {
			s = os.Expand(s, d.getenv)
		}
		out = append(out, s)
	})
	if out != nil {
		*dst = out
		d.set[f.path] = true
	}
}

// list calls each for every item of a list, with the item's path.
func (d *decoder) list(f field, each func(p string, item ast.Node)) {
	n := d.value(f)
	if n == nil {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(f.path, "must be a list, not %s", kind(n))
		return
	}
	for i, item := range seq.Values {
		p := fmt.Sprintf("%s[%d]", f.path, i)
		line := lineOf(d.resolve(item))
		if line == 0 {
			line = lineOf(item)
		}
		d.pos[p] = where{line: line}
		each(p, item)
	}
}

func (d *decoder) boolean(f field, dst *bool) {
	var b *bool
	d.boolPtr(f, &b)
	if b != nil {
		*dst = *b
	}
}

func (d *decoder) boolPtr(f field, dst **bool) {
	n := d.value(f)
	if n == nil {
		return
	}
	b, ok := n.(*ast.BoolNode)
	if !ok {
		d.errorf(f.path, "must be true or false, not %s", kind(n))
		return
	}
	v := b.Value
	*dst = &v
	d.set[f.path] = true
}

// positiveInt decodes a whole number greater than zero.
func (d *decoder) positiveInt(f field, dst *int) {
	n := d.value(f)
	if n == nil {
		return
	}
	i, ok := n.(*ast.IntegerNode)
	if !ok {
		d.errorf(f.path, "must be a whole number, not %s", kind(n))
		return
	}
	v, ok := i.Value.(uint64)
	if !ok || v == 0 || v > 1<<31 {
		d.errorf(f.path, "must be a whole number greater than zero")
		return
	}
	*dst = int(v)
	d.set[f.path] = true
}

// duration decodes a Go duration string such as "10m". Negative values
// are errors; so is zero unless allowZero.
func (d *decoder) duration(f field, dst *time.Duration, allowZero bool) {
	n := d.value(f)
	if n == nil {
		return
	}
	s, ok := stringValue(n)
	if !ok {
		if isScalar(n) {
			d.errorf(f.path, `must be a duration string such as "10m" or "24h", not %s (a bare number has no unit)`, kind(n))
		} else {
			d.errorf(f.path, `must be a duration string such as "10m" or "24h", not %s`, kind(n))
		}
		return
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		hint := ""
		if strings.HasSuffix(s, "d") {
			hint = `; there is no "d" unit, use hours such as "168h"`
		}
		d.errorf(f.path, `invalid duration %q: use a Go duration such as "10m" or "24h"%s`, s, hint)
		return
	}
	switch {
	case v < 0:
		d.errorf(f.path, "must not be negative, got %s", s)
		return
	case v == 0 && !allowZero:
		d.errorf(f.path, "must be greater than zero (remove the key for the default)")
		return
	}
	*dst = v
	d.set[f.path] = true
}

// fromEnv resolves a "...Env" key naming an environment variable that
// holds the value of key (idEnv for id, secretEnv for secret, hashFromEnv
// for hash). p is the path of the enclosing item.
func (d *decoder) fromEnv(p, key, envKey string, dst *string, name string) {
	if name == "" {
		return
	}
	ep := p + "." + envKey
	if *dst != "" {
		d.errorf(ep, "set %s or %s, not both", key, envKey)
		return
	}
	v := d.getenv(name)
	if v == "" {
		d.errorf(ep, "environment variable %q is unset or empty", name)
		d.bad[p+"."+key] = true
		return
	}
	*dst = v
	d.pos[p+"."+key] = d.pos[ep] // problems with the value point at the line naming the variable
}
