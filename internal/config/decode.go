package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// decoder maps the YAML syntax tree onto tagged structs, strictly: every
// key must be a field, every value of the field's kind. It reports every
// problem, not only the first, and remembers where each key path came from
// so that validation can name the file and line, and which values failed
// to decode so that validation does not report them twice.
//
// A field's key is the name in its yaml tag (",inline" lifts an embedded
// struct's keys into the enclosing mapping; "-" hides a field). A config
// tag adds options:
//
//	expand   $VAR and ${VAR} in the string, or each string of the list, are
//	         replaced from the environment, as Dex does
//	zero     an explicit zero duration or number is allowed; otherwise zero
//	         stands for the default and writing it is a mistake
//	alias=K  the key may also be spelled K (one spelling, not both)
//
// Field kinds: string, bool, int, time.Duration (a Go duration string),
// pointers, slices and structs of these, and Section (kept as YAML for a
// backend to decode).
type decoder struct {
	file    string
	getenv  func(string) string // nil: no expansion
	env     string              // when set, every value came from this environment variable
	anchors map[string]ast.Node
	pos     map[string]where // key path → origin of its value
	set     map[string]bool  // key paths present with a non-null value
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

// where is the origin of a value on line: that line of the file, or the
// environment variable every value of this decoder came from.
func (d *decoder) where(line int) where {
	if d.env != "" {
		return where{env: d.env}
	}
	return where{line: line}
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

// field is one key of a struct: its YAML spelling and its options.
type field struct {
	key, alias   string
	index        []int
	expand, zero bool
}

// fieldsOf lists the keys of struct type t in declaration order.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct && strings.Contains(","+opts+",", ",inline,") {
			for _, f := range fieldsOf(sf.Type) {
				f.index = append([]int{i}, f.index...)
				out = append(out, f)
			}
			continue
		}
		f := field{key: name, index: []int{i}}
		if f.key == "" {
			f.key = strings.ToLower(sf.Name) // goccy/go-yaml's default
		}
		for _, o := range strings.Split(sf.Tag.Get("config"), ",") {
			switch {
			case o == "expand":
				f.expand = true
			case o == "zero":
				f.zero = true
			case strings.HasPrefix(o, "alias="):
				f.alias = strings.TrimPrefix(o, "alias=")
			}
		}
		out = append(out, f)
	}
	return out
}

var (
	sectionType  = reflect.TypeFor[Section]()
	durationType = reflect.TypeFor[time.Duration]()
)

// decode stores the value n, found at path, in v as field f says. A null
// value leaves v as it is.
func (d *decoder) decode(n ast.Node, path string, v reflect.Value, f field) {
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	switch v.Type() {
	case sectionType:
		v.Set(reflect.ValueOf(Section{node: n}))
		d.set[path] = true
		return
	case durationType:
		d.duration(n, path, v, f.zero)
		return
	}
	switch v.Kind() {
	case reflect.String:
		d.str(n, path, v, f.expand)
	case reflect.Bool:
		d.boolean(n, path, v)
	case reflect.Int:
		d.integer(n, path, v, f.zero)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, path, p.Elem(), f)
		if !d.bad[path] {
			v.Set(p)
		}
	case reflect.Slice:
		d.list(n, path, v, f)
	case reflect.Struct:
		d.object(n, path, v)
	default:
		panic("config: no decoding into " + v.Type().String())
	}
}

// object decodes mapping n into struct v. Keys that name no field are
// errors: Dex's keys this provider does not implement say so, with the
// reason from the unsupported table; any other key is unknown.
func (d *decoder) object(n ast.Node, path string, v reflect.Value) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errorf(path, "must be a mapping of keys to values, not %s", kind(n))
		return
	}
	fields := fieldsOf(v.Type())
	byKey := make(map[string]int, len(fields))
	for i, f := range fields {
		byKey[f.key] = i
		if f.alias != "" {
			byKey[f.alias] = i
		}
	}
	written := map[int]bool{}
	for _, e := range d.entries(m, path, 0) {
		p := join(path, e.key)
		d.pos[p] = d.where(e.line)
		i, ok := byKey[e.key]
		switch {
		case !ok:
			d.unknownKey(p, e.key, fields)
		case written[i]:
			d.errorf(p, "%s and %s are two spellings of one setting; set only one", fields[i].key, fields[i].alias)
		default:
			written[i] = true
			d.decode(e.val, p, v.FieldByIndex(fields[i].index), fields[i])
		}
	}
}

func (d *decoder) unknownKey(p, key string, fields []field) {
	if why, ok := unsupported[listPattern.ReplaceAllString(p, "[]")]; ok {
		msg := "not supported by this provider"
		if why != "" {
			msg += " (" + why + ")"
		}
		d.add(p, msg)
		return
	}
	msg := "unknown key"
	for _, f := range fields {
		if strings.EqualFold(f.key, key) {
			msg += fmt.Sprintf(" (did you mean %s?)", f.key)
			break
		}
	}
	d.add(p, msg)
}

// listPattern matches the index of a list item in a key path.
var listPattern = regexp.MustCompile(`\[\d+\]`)

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// list decodes sequence n into slice v, item by item.
func (d *decoder) list(n ast.Node, path string, v reflect.Value, f field) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(path, "must be a list, not %s", kind(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		line := lineOf(d.deref(item))
		if line == 0 {
			line = lineOf(item)
		}
		d.pos[p] = d.where(line)
		d.decode(item, p, out.Index(i), f)
	}
	v.Set(out)
	d.set[path] = true
}

// str decodes a string; with expand, $VAR and ${VAR} are replaced from the
// environment.
func (d *decoder) str(n ast.Node, path string, v reflect.Value, expand bool) {
	s, ok := stringValue(n)
	if !ok {
		hint := ""
		if isScalar(n) {
			hint = " (quote the value)"
		}
		d.errorf(path, "must be a string, not %s%s", kind(n), hint)
		return
	}
	if expand && d.getenv != nil {
		s = os.Expand(s, d.getenv)
	}
	v.SetString(s)
	d.set[path] = true
}

func (d *decoder) boolean(n ast.Node, path string, v reflect.Value) {
	b, ok := n.(*ast.BoolNode)
	if !ok {
		d.errorf(path, "must be true or false, not %s", kind(n))
		return
	}
	v.SetBool(b.Value)
	d.set[path] = true
}

// integer decodes a whole number greater than zero (or zero, with zeroOK).
func (d *decoder) integer(n ast.Node, path string, v reflect.Value, zeroOK bool) {
	i, ok := n.(*ast.IntegerNode)
	if !ok {
		d.errorf(path, "must be a whole number, not %s", kind(n))
		return
	}
	u, ok := i.Value.(uint64)
	if !ok || u > 1<<31 || (u == 0 && !zeroOK) {
		d.errorf(path, "must be a whole number greater than zero")
		return
	}
	v.SetInt(int64(u))
	d.set[path] = true
}

// duration decodes a Go duration string such as "10m". Negative values are
// errors; so is zero unless zeroOK.
func (d *decoder) duration(n ast.Node, path string, v reflect.Value, zeroOK bool) {
	s, ok := stringValue(n)
	if !ok {
		hint := ""
		if isScalar(n) {
			hint = " (a bare number has no unit)"
		}
		d.errorf(path, `must be a duration string such as "10m" or "24h", not %s%s`, kind(n), hint)
		return
	}
	t, err := time.ParseDuration(s)
	if err != nil {
		hint := ""
		if strings.HasSuffix(s, "d") {
			hint = `; there is no "d" unit, use hours such as "168h"`
		}
		d.errorf(path, `invalid duration %q: use a Go duration such as "10m" or "24h"%s`, s, hint)
		return
	}
	switch {
	case t < 0:
		d.errorf(path, "must not be negative, got %s", s)
		return
	case t == 0 && !zeroOK:
		d.errorf(path, "must be greater than zero (remove the key for the default)")
		return
	}
	v.SetInt(int64(t))
	d.set[path] = true
}
