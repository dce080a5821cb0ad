package kql

import (
	"encoding/xml"
	"io"
	"strings"
)

// parse_xml converts XML to dynamic values: an element with only text is its
// text (null when empty); attributes become "@name" properties, repeated
// child elements an array, and text next to children "#text"
// (https://learn.microsoft.com/kusto/query/parse-xml-function).

func init() {
	register(map[string]*fnDef{
		"parse_xml": {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: parseXML},
	})
}

type xmlNode struct {
	name     string
	attrs    []xml.Attr
	children []*xmlNode
	text     strings.Builder
}

func parseXML(a []any) any {
	s := text(a[0])
	if len(s) > 1<<20 {
		return nil
	}
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: qualifiedName(t.Name), attrs: t.Attr}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else if root != nil {
				return nil // a second root element
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil
	}
	return map[string]any{root.name: xmlValue(root)}
}

func qualifiedName(n xml.Name) string {
	if n.Space != "" && !strings.Contains(n.Space, "/") {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func xmlValue(n *xmlNode) any {
	txt := strings.TrimSpace(n.text.String())
	if len(n.attrs) == 0 && len(n.children) == 0 {
		if txt == "" {
			return nil
		}
		return txt
	}
	m := map[string]any{}
	for _, at := range n.attrs {
		m["@"+qualifiedName(at.Name)] = at.Value
	}
	for _, c := range n.children {
		v := xmlValue(c)
		switch prev := m[c.name].(type) {
		case nil:
			if _, exists := m[c.name]; exists {
				m[c.name] = []any{nil, v}
			} else {
				m[c.name] = v
			}
		case []any:
			if isRepeated(n, c.name) {
				m[c.name] = append(prev, v)
			} else {
				m[c.name] = []any{prev, v}
			}
		default:
			m[c.name] = []any{prev, v}
		}
	}
	if txt != "" {
		m["#text"] = txt
	}
	return m
}

// isRepeated reports whether n has more than one child called name.
func isRepeated(n *xmlNode, name string) bool {
	k := 0
	for _, c := range n.children {
		if c.name == name {
			k++
		}
	}
	return k > 1
}
