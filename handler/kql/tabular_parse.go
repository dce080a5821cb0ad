package kql

import (
	"regexp"
	"strings"
)

// parse and parse-where translate their pattern into one regular expression:
// "*" skips text, string constants must appear, each column captures. In the
// default simple mode the match is strict (anchored, typed columns must
// convert); relaxed mode nulls a column that does not convert; regex mode
// takes the constants as regular expressions. Rows that do not match get
// empty values (parse) or are dropped (parse-where).

func (x *exec) parse(op *parseOp, in *Table) (*Table, error) {
	src, err := newScope(x, in.Columns).scalar(op.x)
	if err != nil {
		return nil, err
	}
	re, parts, err := parseRegex(op)
	if err != nil {
		return nil, err
	}
	cols := append([]Column(nil), in.Columns...)
	targets := make([]int, len(parts))
	groups := make([]int, len(parts))
	for i, p := range parts {
		j := colIndex(cols, p.column)
		if j < 0 {
			j = len(cols)
			cols = append(cols, Column{Name: p.column})
		}
		cols[j].Type = p.typ
		targets[i] = j
		groups[i] = re.SubexpIndex("c" + itoa(i))
	}
	out := &Table{Columns: cols}
	for _, r := range in.Rows {
		row := make([]any, len(cols))
		copy(row, r)
		m := re.FindStringSubmatch(text(src.fn(r)))
		ok := m != nil
		vals := make([]any, len(parts))
		for i, p := range parts {
			if !ok {
				break
			}
			v := convertTo(p.typ, m[groups[i]])
			if v == nil && op.kind == "simple" {
				ok = false
			}
			vals[i] = v
		}
		if !ok && op.where {
			continue
		}
		for i, p := range parts {
			v := vals[i]
			if !ok {
				v = nil
			}
			if v == nil && p.typ == "string" {
				v = ""
			}
			row[targets[i]] = v
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// parseRegex builds the pattern's regular expression; column i is group c<i>.
func parseRegex(op *parseOp) (*regexp.Regexp, []parsePart, error) {
	var b strings.Builder
	if op.kind == "regex" {
		if op.flags != "" {
			b.WriteString("(?" + op.flags + ")")
		}
	} else {
		b.WriteString("(?s)^")
	}
	var cols []parsePart
	for _, p := range op.parts {
		switch {
		case p.star:
			b.WriteString(".*?")
		case p.isLit && op.kind == "regex":
			b.WriteString(p.literal)
		case p.isLit:
			b.WriteString(regexp.QuoteMeta(p.literal))
		default:
			b.WriteString("(?P<c" + itoa(len(cols)) + ">" + columnPattern(op.kind, p.typ) + ")")
			cols = append(cols, p)
		}
	}
	if op.kind != "regex" {
		b.WriteString("$")
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, nil, errorf(op.pos, "parse pattern is not a valid regular expression: %v", err)
	}
	return re, cols, nil
}

func columnPattern(kind, typ string) string {
	switch {
	case kind == "regex" && typ == "string":
		return ".*"
	case kind == "relaxed" && typ != "string":
		// Relaxed: a value of the column's type, or else anything (the column is then null).
		// https://learn.microsoft.com/kusto/query/parse-operator ("Relaxed mode").
		return "(?:" + columnPattern("simple", typ) + "|.*?)"
	case isIntType(typ):
		return `-?\d+`
	case typ == "real" || typ == "decimal":
		return `-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`
	case typ == "bool":
		return `(?i:true|false)`
	}
	return ".*?"
}
