package kql

import (
	"regexp"
	"strings"
)

// The search operator's arguments and its predicate language
// (https://learn.microsoft.com/kusto/query/search-operator): a boolean
// expression in which a bare string literal is a term looked for in every
// column, Col:"term" looks in one column, and * in a term is a wildcard.

// searchArgs parses [kind=...] [in (tables)] predicate; "in" only when the
// search is a source.
func (p *parser) searchArgs(pos Pos, source bool) (*searchOp, error) {
	op := &searchOp{pos: pos}
	if p.isWord("kind") && p.peekAt(1).text == "=" {
		p.i += 2
		k, kpos, err := p.name()
		if err != nil {
			return nil, err
		}
		switch k {
		case "case_sensitive":
			op.caseSensitive = true
		case "case_insensitive", "default":
		default:
			return nil, errorf(kpos, "unknown search kind '%s' (want case_sensitive or case_insensitive)", k)
		}
	}
	if p.isWord("in") && p.peekAt(1).text == "(" {
		if !source {
			return nil, errorf(p.peek().pos, "search in (...) cannot follow a pipe: the input is the table searched")
		}
		p.next()
		p.next()
		for !p.isPunct(")") {
			t, name, err := p.operand()
			if err != nil {
				return nil, err
			}
			op.tables = append(op.tables, t)
			op.names = append(op.names, name)
			if !p.acceptPunct(",") {
				break
			}
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		if len(op.tables) == 0 {
			return nil, errorf(pos, "search in () lists no table")
		}
	}
	pred, err := p.searchOr(op.caseSensitive)
	if err != nil {
		return nil, err
	}
	op.pred = pred
	return op, nil
}

func (p *parser) searchOr(cs bool) (expr, error) {
	l, err := p.searchAnd(cs)
	for err == nil && p.isWord("or") {
		t := p.next()
		var r expr
		if r, err = p.searchAnd(cs); err == nil {
			l = &binary{pos: t.pos, op: "or", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) searchAnd(cs bool) (expr, error) {
	l, err := p.searchPrimary(cs)
	for err == nil && p.isWord("and") {
		t := p.next()
		var r expr
		if r, err = p.searchPrimary(cs); err == nil {
			l = &binary{pos: t.pos, op: "and", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) searchPrimary(cs bool) (expr, error) {
	t := p.peek()
	switch {
	case t.kind == tString && !p.comparisonAfterString():
		s := ""
		for p.peek().kind == tString {
			s += p.next().text
		}
		return searchTermCall(t.pos, "", s, cs), nil
	case t.kind == tPunct && t.text == "*" && !stringOps[p.peekAt(1).text]:
		p.next()
		return &literal{pos: t.pos, val: true, typ: "bool"}, nil
	case t.kind == tIdent && p.peekAt(1).text == ":" && p.peekAt(1).kind == tPunct && p.peekAt(2).kind == tString:
		p.next()
		p.next()
		s := ""
		for p.peek().kind == tString {
			s += p.next().text
		}
		return searchTermCall(t.pos, t.text, s, cs), nil
	case t.kind == tIdent && t.text == "not" && p.peekAt(1).text == "(":
		p.next()
		p.next()
		x, err := p.searchOr(cs)
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return &call{pos: t.pos, name: "not", args: []expr{x}}, nil
	case t.kind == tPunct && t.text == "(" && p.searchGroupAhead():
		p.next()
		x, err := p.searchOr(cs)
		if err != nil {
			return nil, err
		}
		return x, p.expectPunct(")")
	}
	return p.comparison()
}

// comparisonAfterString reports whether the string literal at the cursor is the
// left operand of a comparison ("a" == Col) rather than a search term.
func (p *parser) comparisonAfterString() bool {
	i := p.i
	for p.toks[i].kind == tString {
		i++
	}
	n := p.toks[i]
	return n.kind == tPunct && comparePuncts[n.text] != "" || n.kind == tIdent && (stringOps[n.text] || listOps[n.text])
}

// searchGroupAhead reports whether the parenthesis at the cursor groups search
// terms: it holds a term, or only and/or/comparisons of them.
func (p *parser) searchGroupAhead() bool {
	end := p.matching(p.i)
	if end < 0 {
		return false
	}
	// (a + b) > 3 is an arithmetic group: something follows the parenthesis
	// that continues an expression.
	n := p.toks[min(end+1, len(p.toks)-1)]
	if n.kind == tPunct && (comparePuncts[n.text] != "" || strings.Contains("+-*/%", n.text)) || n.kind == tIdent && (stringOps[n.text] || listOps[n.text] || n.text == "between") {
		return false
	}
	return true
}

// searchTermCall builds the test of a search term: has, or hasprefix,
// hassuffix, contains, matches regex when it holds * wildcards; over column
// col or every column ("").
func searchTermCall(pos Pos, col, term string, cs bool) expr {
	op := "has"
	switch {
	case strings.Trim(term, "*") == "":
		return &literal{pos: pos, val: true, typ: "bool"}
	case strings.Contains(strings.Trim(term, "*"), "*"):
		parts := strings.Split(term, "*")
		for i, s := range parts {
			parts[i] = regexp.QuoteMeta(s)
		}
		re := strings.Join(parts, ".*")
		if !strings.HasPrefix(term, "*") {
			re = `\b` + re
		}
		if !strings.HasSuffix(term, "*") {
			re += `\b`
		}
		if !cs {
			re = "(?i)" + re
		}
		return &call{pos: pos, name: fnSearchTerm, args: []expr{
			&literal{pos: pos, val: col, typ: "string"}, &literal{pos: pos, val: "matches regex", typ: "string"}, &literal{pos: pos, val: re, typ: "string"},
		}}
	case strings.HasPrefix(term, "*") && strings.HasSuffix(term, "*"):
		op, term = "contains", strings.Trim(term, "*")
	case strings.HasPrefix(term, "*"):
		op, term = "hassuffix", strings.TrimPrefix(term, "*")
	case strings.HasSuffix(term, "*"):
		op, term = "hasprefix", strings.TrimSuffix(term, "*")
	}
	if cs {
		op += "_cs"
	}
	return &call{pos: pos, name: fnSearchTerm, args: []expr{
		&literal{pos: pos, val: col, typ: "string"}, &literal{pos: pos, val: op, typ: "string"}, &literal{pos: pos, val: term, typ: "string"},
	}}
}
