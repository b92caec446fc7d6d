package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// This file reads the YAML syntax tree where the decoder (decode.go) walks
// it: the one document of a file, its anchors and aliases, merge keys (<<)
// and the standard tags.

// parseDocument parses data and returns the body of its single document:
// nil for an empty file, or when it cannot be read as a mapping (then the
// decoder is fatal and the problem reported).
func (d *decoder) parseDocument(data []byte) ast.Node {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		d.syntaxError(err)
		d.fatal = true
		return nil
	}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			d.addAt(d.whereOf(doc.Body), "", "only one YAML document is allowed")
			break
		}
		body = doc.Body
	}
	if body == nil {
		return nil // an empty file: validation reports what is required
	}
	d.collectAnchors(body)
	if _, ok := d.deref(body).(*ast.MappingNode); !ok {
		d.addAt(d.whereOf(body), "", "the configuration must be a YAML mapping of keys like issuer: and staticClients:")
		d.fatal = true
		return nil
	}
	return body
}

// syntaxError reports a YAML syntax error with its position, without the
// source excerpt the parser adds (it could show a secret).
func (d *decoder) syntaxError(err error) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg := yamlPosition.ReplaceAllString(ye.GetMessage(), "line $1")
		msg = strings.ReplaceAll(msg, "\t", `\t`)
		d.addAt(whereToken(ye.GetToken()), "", "invalid YAML: "+msg)
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

// collectAnchors indexes the anchors (&name) so aliases (*name) resolve, and
// reports aliases that name no anchor.
func (d *decoder) collectAnchors(body ast.Node) {
	for _, n := range ast.Filter(ast.AnchorType, body) {
		if a := n.(*ast.AnchorNode); a.Name != nil && a.Name.GetToken() != nil {
			d.anchors[a.Name.GetToken().Value] = a.Value
		}
	}
	for _, n := range ast.Filter(ast.AliasType, body) {
		if name := aliasName(n.(*ast.AliasNode)); d.anchors[name] == nil {
			d.addAt(d.whereOf(n), "", fmt.Sprintf("alias *%s names no anchor", name))
		}
	}
}

func aliasName(a *ast.AliasNode) string {
	if a.Value == nil || a.Value.GetToken() == nil {
		return ""
	}
	return a.Value.GetToken().Value
}

// deref looks through anchors and aliases to the node they denote; nil
// for an alias that names no anchor (reported by collectAnchors).
func (d *decoder) deref(n ast.Node) ast.Node {
	for range 32 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			n = d.anchors[aliasName(v)]
		default:
			return n
		}
	}
	return nil
}

// resolve looks through anchors and aliases to the value they denote, and
// checks its tag. The library decodes !!str and !!binary; resolve rejects
// what it would let pass: !!str of a mapping or list, and text that is not
// base64 (the library decodes it to nothing). !!int, !!float, !!bool,
// !!null, !!map and !!seq only confirm the kind (a quoted scalar is read
// as a plain one); the library reads !!int '20' as 0, !!map as no mapping
// and !!null as false, so resolve checks the kind and drops these tags.
// Other tags are errors. Messages never show the value (it may be secret).
func (d *decoder) resolve(n ast.Node) (ast.Node, error) {
	t, ok := d.deref(n).(*ast.TagNode)
	if !ok {
		return d.deref(n), nil
	}
	tag, v := token.ReservedTagKeyword(t.Start.Value), d.deref(t.Value)
	switch tag {
	case token.StringTag:
		if k := kindOf(v); k.tag == token.MappingTag || k.tag == token.SequenceTag {
			return nil, fmt.Errorf("%s needs a scalar, not %s", tag, k.name)
		}
	case token.BinaryTag:
		var s string
		if k := kindOf(v); k.tag != token.StringTag || yaml.NodeToValue(v, &s) != nil {
			return nil, fmt.Errorf("%s needs base64 text, not %s", tag, k.name)
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("the %s value is not valid base64", tag)
		}
	case token.IntegerTag, token.FloatTag, token.BooleanTag, token.NullTag, token.MappingTag, token.SequenceTag:
		if s, quoted := v.(*ast.StringNode); quoted && tag != token.MappingTag && tag != token.SequenceTag {
			if plain, err := parser.ParseBytes([]byte(s.Value), 0); err == nil && len(plain.Docs) == 1 {
				v = plain.Docs[0].Body
			}
		}
		if kindOf(v).tag != tag {
			return nil, fmt.Errorf("the value is not a valid %s", tag)
		}
		return v, nil
	default:
		return nil, fmt.Errorf("tag %s is not supported (standard tags only: !!str, !!binary, !!int, !!float, !!bool, !!null, !!map, !!seq)", tag)
	}
	resolved := *t
	resolved.Value = v
	return &resolved, nil
}

// entries lists the keys of mapping m at path p with merge keys (<<)
// expanded as YAML's merge key type says: keys written in the mapping win
// over merged ones, and an earlier merged mapping over a later one. (The
// library lets the later key win, and without AllowDuplicateMapKey rejects
// a key that overrides a merged one.)
func (d *decoder) entries(m *ast.MappingNode, p string, depth int) []*ast.MappingValueNode {
	var own, merged []*ast.MappingValueNode
	for _, mv := range m.Values {
		if !mv.Key.IsMergeKey() {
			own = append(own, mv)
			continue
		}
		v, _ := d.resolve(mv.Value)
		srcs := []ast.Node{v}
		if s, ok := v.(*ast.SequenceNode); ok {
			srcs = s.Values
		}
		for _, s := range srcs {
			sm, ok := d.deref(s).(*ast.MappingNode)
			if !ok || depth > 8 {
				d.addAt(d.whereOf(mv.Key), join(p, "<<"), "a merge key needs a mapping or a list of mappings")
				continue
			}
			merged = append(merged, d.entries(sm, p, depth+1)...)
		}
	}
	seen := make(map[string]bool, len(own)+len(merged))
	out := make([]*ast.MappingValueNode, 0, len(own)+len(merged))
	for _, e := range append(own, merged...) {
		if k := keyString(e.Key); !seen[k] {
			seen[k] = true
			out = append(out, e)
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

// kind is what a resolved node is, for messages and tags; never its value.
type kind struct {
	name  string
	tag   token.ReservedTagKeyword // the standard tag of the kind
	plain bool                     // a number or boolean, which a string field would take quoted
}

// kinds holds the kinds of resolved nodes. A tagged node is a string:
// resolve leaves only !!str and !!binary.
var kinds = map[ast.NodeType]kind{
	ast.MappingType:  {"a mapping", token.MappingTag, false},
	ast.SequenceType: {"a list", token.SequenceTag, false},
	ast.BoolType:     {"a boolean", token.BooleanTag, true},
	ast.IntegerType:  {"a number", token.IntegerTag, true},
	ast.FloatType:    {"a number", token.FloatTag, true},
	ast.InfinityType: {"a number", token.FloatTag, true},
	ast.NanType:      {"a number", token.FloatTag, true},
	ast.NullType:     {"null", token.NullTag, false},
	ast.StringType:   {"a string", token.StringTag, false},
	ast.LiteralType:  {"a string", token.StringTag, false},
	ast.TagType:      {"a string", token.StringTag, false},
}

func kindOf(n ast.Node) kind {
	if isNull(n) {
		return kinds[ast.NullType]
	}
	if k, ok := kinds[n.Type()]; ok {
		return k
	}
	return kind{name: "this kind of value"}
}

// startToken is the token where n starts: the first key of a block
// mapping, the key of a key-value pair, or n's own token.
func startToken(n ast.Node) *token.Token {
	switch v := n.(type) {
	case nil:
		return nil
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return v.Values[0].Key.GetToken()
		}
	case *ast.MappingValueNode:
		return v.Key.GetToken()
	}
	return n.GetToken()
}

// whereToken is the position of tk in the file.
func whereToken(tk *token.Token) where {
	if tk == nil || tk.Position == nil {
		return where{}
	}
	return where{line: tk.Position.Line, col: tk.Position.Column}
}
