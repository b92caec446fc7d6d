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

// This file reads the YAML syntax tree: the one document of a file, its
// anchors and aliases, merge keys (<<) and the standard tags. The decoder
// (decode.go) maps what it finds onto the tagged structs.

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
			d.addAt(where{line: lineOf(doc.Body)}, "", "only one YAML document is allowed")
			break
		}
		body = doc.Body
	}
	if body == nil {
		return nil // an empty file: validation reports what is required
	}
	d.collectAnchors(body)
	if _, ok := d.resolve(body, "").(*ast.MappingNode); !ok {
		d.addAt(where{line: lineOf(body)}, "", "the configuration must be a YAML mapping of keys like issuer: and staticClients:")
		d.fatal = true
		return nil
	}
	return body
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
	anchors map[string]ast.Node
	aliases []*ast.AliasNode
}

func (v *anchorVisitor) Visit(n ast.Node) ast.Visitor {
	switch n := n.(type) {
	case *ast.AnchorNode:
		if n.Name != nil && n.Name.GetToken() != nil {
			v.anchors[n.Name.GetToken().Value] = n.Value
		}
	case *ast.AliasNode:
		v.aliases = append(v.aliases, n)
	}
	return v
}

// collectAnchors indexes the anchors (&name) so aliases (*name) resolve, and
// reports aliases that name no anchor.
func (d *decoder) collectAnchors(body ast.Node) {
	v := &anchorVisitor{anchors: d.anchors}
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

// resolve looks through anchors, aliases and tags to the value they denote;
// nil stands for null. A tag that cannot apply is reported at path, which
// is then bad.
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	for range 32 {
		n = d.deref(n)
		t, ok := n.(*ast.TagNode)
		if !ok {
			break
		}
		tag := ""
		if t.Start != nil {
			tag = t.Start.Value
		}
		var err error
		if n, err = applyTag(tag, d.deref(t.Value)); err != nil {
			d.errorf(path, "%s", err)
			return nil
		}
	}
	if _, null := n.(*ast.NullNode); null {
		return nil
	}
	return n
}

// applyTag gives value v the meaning YAML's standard tag gives it: !!str
// makes any scalar a string, !!binary decodes base64 to the bytes, and
// !!int, !!float, !!bool, !!null, !!map and !!seq read a quoted scalar as a
// plain one and otherwise only confirm the kind. Other tags are errors.
// Messages never show the value (it may be a secret).
func applyTag(tag string, v ast.Node) (ast.Node, error) {
	switch token.ReservedTagKeyword(tag) {
	case token.StringTag:
		switch v.(type) {
		case *ast.StringNode, *ast.LiteralNode:
			return v, nil
		case *ast.NullNode, *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
			return stringNode(v.GetToken(), v.GetToken().Value), nil
		}
		return nil, fmt.Errorf("%s needs a scalar, not %s", tag, kind(v))
	case token.BinaryTag:
		s, ok := stringValue(v)
		if !ok {
			return nil, fmt.Errorf("%s needs base64 text, not %s", tag, kind(v))
		}
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, fmt.Errorf("the %s value is not valid base64", tag)
		}
		return stringNode(v.GetToken(), string(b)), nil
	case token.IntegerTag, token.FloatTag, token.BooleanTag, token.NullTag, token.MappingTag, token.SequenceTag:
		if s, quoted := v.(*ast.StringNode); quoted && tag != string(token.MappingTag) && tag != string(token.SequenceTag) {
			if plain, err := parser.ParseBytes([]byte(s.Value), 0); err == nil && len(plain.Docs) == 1 {
				v = plain.Docs[0].Body
			}
		}
		if kindTag(v) != tag {
			return nil, fmt.Errorf("the value is not a valid %s", tag)
		}
		return v, nil
	}
	return nil, fmt.Errorf("tag %s is not supported (standard tags only: !!str, !!binary, !!int, !!float, !!bool, !!null, !!map, !!seq)", tag)
}

// kindTag is the standard tag of a resolved node's kind.
func kindTag(n ast.Node) string {
	switch n.(type) {
	case *ast.IntegerNode:
		return string(token.IntegerTag)
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return string(token.FloatTag)
	case *ast.BoolNode:
		return string(token.BooleanTag)
	case *ast.NullNode, nil:
		return string(token.NullTag)
	case *ast.MappingNode:
		return string(token.MappingTag)
	case *ast.SequenceNode:
		return string(token.SequenceTag)
	}
	return string(token.StringTag)
}

// stringNode is a string scalar with value s at tk's position.
func stringNode(tk *token.Token, s string) *ast.StringNode {
	return &ast.StringNode{BaseNode: &ast.BaseNode{}, Token: tk, Value: s}
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

// entry is one key of a mapping with its value.
type entry struct {
	key  string
	line int
	val  ast.Node
}

// entries lists the keys of mapping m at path, with merge keys (<<)
// expanded: keys written in the mapping win over merged ones.
func (d *decoder) entries(m *ast.MappingNode, path string, depth int) []entry {
	var own, merged []entry
	for _, mv := range m.Values {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			v := d.resolve(mv.Value, path)
			srcs := []ast.Node{v}
			if s, ok := v.(*ast.SequenceNode); ok {
				srcs = s.Values
			}
			for _, s := range srcs {
				sm, ok := d.resolve(s, path).(*ast.MappingNode)
				if !ok || depth > 8 {
					d.addAt(d.where(lineOf(mv.Key)), join(path, "<<"), "a merge key needs a mapping or a list of mappings")
					continue
				}
				merged = append(merged, d.entries(sm, path, depth+1)...)
			}
			continue
		}
		own = append(own, entry{key: keyString(mv.Key), line: lineOf(mv.Key), val: mv.Value})
	}
	seen := make(map[string]bool, len(own)+len(merged))
	out := make([]entry, 0, len(own)+len(merged))
	for _, e := range append(own, merged...) {
		if !seen[e.key] {
			seen[e.key] = true
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

// isScalar reports whether n is a number or a boolean: a value that a
// string field would take if it were quoted.
func isScalar(n ast.Node) bool {
	switch n.(type) {
	case *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return true
	}
	return false
}
