package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// decoder reads the configuration file, or a backend's section of it, into
// tagged structs. The YAML library decodes (yaml.NodeToValue, strict), but
// stops at the first problem, has no key paths, and is lenient (it reads
// 123 as the string "123" and 1.5 as the number 1). So the decoder first
// walks the syntax tree beside the struct type: it reports every unknown
// key (Dex's keys this provider does not implement say so, see
// unsupported.go), and has the library decode each scalar alone, so that
// every value of the wrong kind or out of range is reported with its key
// path and position. The walk returns the tree the library then decodes:
// anchors, aliases, merge keys and kind tags resolved (see yaml.go), keys
// in their canonical spelling, $VAR expanded, unknown keys left out and
// rejected values replaced by null, so that validation sees the rest. It
// records where each key path came from, and which values were rejected,
// so that validation names the line and does not report them twice.
//
// A field's key is the name in its yaml tag, as the library reads it
// (",inline" lifts an embedded struct's keys into the enclosing mapping;
// "-" hides a field). A config tag adds options:
//
//	expand   $VAR and ${VAR} in the string, or each string of the list, are
//	         replaced from the environment, as Dex does
//	zero     an explicit zero duration or number is allowed; otherwise zero
//	         stands for the default and writing it is a mistake
//	alias=K  the key may also be spelled K (one spelling, not both)
//
// A Section's YAML is kept for its backend, which decodes it later with a
// decoder of its own (Section.Decode).
type decoder struct {
	file    string
	getenv  func(string) string // nil: no expansion
	env     string              // when set, every value came from this environment variable
	anchors map[string]ast.Node
	pos     map[string]where    // key path → origin of its value
	set     map[string]bool     // key paths present with a non-null value
	bad     map[string]bool     // key paths whose value was rejected
	raw     map[string]ast.Node // key path of a Section → its YAML
	errs    []*Error
	warns   []Warning // keys that load but have no effect (see ignored)
	fatal   bool      // the file could not be read as a mapping: skip validation
	// skipFiles: do not read frontend.dir (a function that serves none)
	skipFiles bool
	// connector: decoding a connector's section (Section.connector)
	// with these; nil otherwise
	connector *connectorValues
}

func newDecoder(file string, getenv func(string) string) *decoder {
	return &decoder{
		file:    file,
		getenv:  getenv,
		anchors: map[string]ast.Node{},
		pos:     map[string]where{},
		set:     map[string]bool{},
		bad:     map[string]bool{},
		raw:     map[string]ast.Node{},
	}
}

// whereOf is the origin of node n: where it starts in the file, or the
// environment variable every value of this decoder came from.
func (d *decoder) whereOf(n ast.Node) where {
	if d.env != "" {
		return where{env: d.env}
	}
	return whereToken(startToken(n))
}

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

// decode has the library decode tree, as value returned it, into v. It
// does not fail: value rejected what the library would.
func (d *decoder) decode(tree ast.Node, v any) {
	if !isNull(tree) {
		if err := yaml.NodeToValue(tree, v, yaml.Strict()); err != nil {
			d.addAt(where{}, "", "cannot decode: "+firstLine(err.Error()))
		}
	}
}

// field is one key of a struct: its YAML spelling, type and options.
type field struct {
	key, alias   string
	typ          reflect.Type
	expand, zero bool
}

// fieldsOf maps the keys of struct type t, and their alias spellings, to
// their fields, naming them as the library does.
func fieldsOf(t reflect.Type) map[string]field {
	out := map[string]field{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(cmp.Or(sf.Tag.Get("yaml"), sf.Tag.Get("json")), ",")
		if name == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			maps.Copy(out, fieldsOf(sf.Type))
			continue
		}
		f := field{key: cmp.Or(name, strings.ToLower(sf.Name)), typ: sf.Type}
		for _, o := range strings.Split(sf.Tag.Get("config"), ",") {
			switch {
			case o == "expand":
				f.expand = true
			case o == "zero":
				f.zero = true
			case strings.HasPrefix(o, "alias="):
				f.alias = strings.TrimPrefix(o, "alias=")
				out[f.alias] = f
			}
		}
		out[f.key] = f
	}
	return out
}

var (
	sectionType  = reflect.TypeFor[Section]()
	durationType = reflect.TypeFor[time.Duration]()
	stringType   = reflect.TypeFor[string]()
)

// value checks n, the value at path p of a field of type t with options f,
// and returns what the library is to decode in its place (null when n is
// rejected or a Section).
func (d *decoder) value(n ast.Node, t reflect.Type, p string, f field) ast.Node {
	n, err := d.resolve(n)
	if err != nil {
		d.errorf(p, "%s", err)
		return null()
	}
	if isNull(n) {
		return null()
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == sectionType:
		d.raw[p] = n
		return null()
	case t.Kind() == reflect.Struct:
		return d.mapping(n, t, p)
	case t.Kind() == reflect.Slice:
		return d.list(n, t, p, f)
	case t.Kind() == reflect.Map:
		return d.dict(n, t, p, f)
	}
	return d.scalar(n, t, p, f)
}

// mapping checks mapping n against struct type t. Keys that name no field
// are left out: Dex's keys that cannot apply here are warnings, with the
// reason from the ignored table; Dex's keys this provider does not
// implement are errors that say so, with the reason from the unsupported
// table; any other key is an unknown-key error.
func (d *decoder) mapping(n ast.Node, t reflect.Type, p string) ast.Node {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errorf(p, "must be a mapping of keys to values, not %s", kindOf(n).name)
		return null()
	}
	fields := fieldsOf(t)
	written := map[string]bool{}
	out := *m
	out.Values = nil
	for _, e := range d.entries(m, p, 0) {
		key := keyString(e.Key)
		kp := join(p, key)
		d.pos[kp] = d.whereOf(e.Key)
		f, ok := fields[key]
		switch {
		case !ok:
			d.unknownKey(kp, key, fields)
		case written[f.key]:
			d.errorf(kp, "%s and %s are two spellings of one setting; set only one", f.key, f.alias)
		default:
			written[f.key] = true
			mv := *e
			if key != f.key {
				mv.Key = stringNode(e.Key.GetToken(), f.key)
			}
			mv.Value = d.value(e.Value, f.typ, kp, f)
			out.Values = append(out.Values, &mv)
		}
	}
	return &out
}

// listPattern matches the index of a list item in a key path.
var listPattern = regexp.MustCompile(`\[\d+\]`)

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// list checks sequence n against slice type t, item by item.
func (d *decoder) list(n ast.Node, t reflect.Type, p string, f field) ast.Node {
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(p, "must be a list, not %s", kindOf(n).name)
		return null()
	}
	out := *s
	out.Values = make([]ast.Node, len(s.Values))
	for i, item := range s.Values {
		ip := fmt.Sprintf("%s[%d]", p, i)
		d.pos[ip] = d.whereOf(cmp.Or(d.deref(item), item))
		out.Values[i] = d.value(item, t.Elem(), ip, f)
	}
	return &out
}

// dict checks mapping n against map type t, whose keys are strings, value
// by value (frontend.extra).
func (d *decoder) dict(n ast.Node, t reflect.Type, p string, f field) ast.Node {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errorf(p, "must be a mapping of keys to values, not %s", kindOf(n).name)
		return null()
	}
	out := *m
	out.Values = nil
	for _, e := range d.entries(m, p, 0) {
		kp := join(p, keyString(e.Key))
		d.pos[kp] = d.whereOf(e.Key)
		mv := *e
		mv.Value = d.value(e.Value, t.Elem(), kp, f)
		out.Values = append(out.Values, &mv)
	}
	return &out
}

// scalar checks n for a field of scalar type t: n must be of the field's
// kind, the library must decode it, and a duration or number must be in
// range. With expand, the result is the decoded string with $VAR and
// ${VAR} replaced.
func (d *decoder) scalar(n ast.Node, t reflect.Type, p string, f field) ast.Node {
	v := reflect.New(t)
	msg := kindError(n, t)
	if msg == "" {
		if err := yaml.NodeToValue(n, v.Interface()); err != nil {
			msg = decodeError(n, t, err)
		} else {
			msg = rangeError(v.Elem(), f.zero)
		}
	}
	if msg != "" {
		d.errorf(p, "%s", msg)
		return null()
	}
	d.set[p] = true
	switch {
	case t.Kind() != reflect.String:
	case d.connector != nil:
		s, err := d.connector.value(v.Elem().String())
		if err != nil {
			d.errorf(p, "%v", err)
			return null()
		}
		return stringNode(n.GetToken(), s)
	case f.expand && d.getenv != nil:
		return stringNode(n.GetToken(), os.Expand(v.Elem().String(), d.getenv))
	}
	return n
}

// kindError says why n cannot be a value of type t, or returns "".
func kindError(n ast.Node, t reflect.Type) string {
	k, quote, unit := kindOf(n), "", ""
	if k.plain {
		quote, unit = " (quote the value)", " (a bare number has no unit)"
	}
	switch {
	case t == durationType && k.tag != token.StringTag:
		return `must be a duration string such as "10m" or "24h", not ` + k.name + unit
	case t.Kind() == reflect.String && k.tag != token.StringTag:
		return "must be a string, not " + k.name + quote
	case t.Kind() == reflect.Bool && k.tag != token.BooleanTag:
		return "must be true or false, not " + k.name
	case t.Kind() == reflect.Int && k.tag != token.IntegerTag:
		return "must be a whole number, not " + k.name
	}
	return ""
}

// decodeError explains why the library could not decode n into type t.
func decodeError(n ast.Node, t reflect.Type, err error) string {
	var overflow *yaml.OverflowError
	switch {
	case t == durationType:
		var s string
		_ = yaml.NodeToValue(n, &s)
		hint := ""
		if strings.HasSuffix(s, "d") {
			hint = `; there is no "d" unit, use hours such as "168h"`
		}
		return fmt.Sprintf(`invalid duration %q: use a Go duration such as "10m" or "24h"%s`, s, hint)
	case errors.As(err, &overflow):
		return "must be a whole number greater than zero"
	}
	return "cannot decode: " + firstLine(err.Error())
}

// rangeError says why the decoded value v is out of range, or returns "".
// Durations must not be negative, numbers must be greater than zero and at
// most 2³¹; zero is allowed for both when zeroOK.
func rangeError(v reflect.Value, zeroOK bool) string {
	switch {
	case v.Type() == durationType:
		switch t := time.Duration(v.Int()); {
		case t < 0:
			return fmt.Sprintf("must not be negative, got %s", t)
		case t == 0 && !zeroOK:
			return "must be greater than zero (remove the key for the default)"
		}
	case v.CanInt():
		if i := v.Int(); i < 0 || i > 1<<31 || (i == 0 && !zeroOK) {
			return "must be a whole number greater than zero"
		}
	}
	return ""
}

// stringNode is a string scalar with value s at tk's position.
func stringNode(tk *token.Token, s string) *ast.StringNode {
	return &ast.StringNode{BaseNode: &ast.BaseNode{}, Token: tk, Value: s}
}

// null replaces a rejected value: the library leaves the field as it is.
func null() ast.Node {
	return ast.Null(&token.Token{Type: token.NullType, Value: "null"})
}

func isNull(n ast.Node) bool {
	return n == nil || n.Type() == ast.NullType
}
