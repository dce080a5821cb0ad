package kql

import "strings"

// The parser is a hand-written recursive descent over the token list. This
// file holds the parser's token helpers, statements and pipeline sources;
// syntax_parse_ops.go the tabular operators; syntax_parse_expr.go scalar
// expressions and literals.

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token        { return p.toks[p.i] }
func (p *parser) peekAt(n int) token { return p.toks[min(p.i+n, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == s
}

func (p *parser) acceptPunct(s string) bool {
	if p.isPunct(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptWord(s string) bool {
	if p.isWord(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) error {
	if !p.acceptPunct(s) {
		return p.unexpected("'" + s + "'")
	}
	return nil
}

func (p *parser) expectWord(s string) error {
	if !p.acceptWord(s) {
		return p.unexpected("'" + s + "'")
	}
	return nil
}

func (p *parser) unexpected(want string) error {
	t := p.peek()
	if t.kind == tEOF {
		return errorf(t.pos, "expected %s, found end of query", want)
	}
	return errorf(t.pos, "expected %s, found %s", want, describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tString:
		return "string literal"
	case tEOF:
		return "end of query"
	}
	return "'" + t.text + "'"
}

// name reads an identifier or a bracketed name: ['Column Name'].
func (p *parser) name() (string, Pos, error) {
	t := p.peek()
	if t.kind == tIdent {
		p.next()
		return t.text, t.pos, nil
	}
	if t.kind == tPunct && t.text == "[" && p.peekAt(1).kind == tString && p.peekAt(2).text == "]" {
		p.next()
		s := p.next()
		p.next()
		return s.text, t.pos, nil
	}
	return "", t.pos, p.unexpected("a name")
}

// atEnd reports whether the current operator's arguments are over.
func (p *parser) atEnd() bool {
	t := p.peek()
	return t.kind == tEOF || t.kind == tPunct && (t.text == "|" || t.text == ")" || t.text == ";")
}

func (p *parser) query() (*Query, error) {
	q := &Query{}
	for {
		switch {
		case p.acceptPunct(";"):
			continue
		case p.peek().kind == tEOF:
			if q.body == nil {
				return nil, errorf(p.peek().pos, "query has no tabular expression to run")
			}
			return q, nil
		case p.isWord("let"):
			st, err := p.let()
			if err != nil {
				return nil, err
			}
			q.lets = append(q.lets, st)
		case p.isWord("set") || p.isWord("declare") || p.isWord("alias") || p.isWord("pattern") || p.isWord("restrict"):
			t := p.peek()
			return nil, errorf(t.pos, "unsupported statement '%s'", t.text)
		default:
			if q.body != nil {
				return nil, errorf(p.peek().pos, "only one tabular expression statement is supported (found a second one)")
			}
			t, err := p.tabular()
			if err != nil {
				return nil, err
			}
			q.body = t
			if !p.acceptPunct(";") && p.peek().kind != tEOF {
				return nil, p.unexpected("'|', ';' or end of query")
			}
		}
	}
}

func (p *parser) let() (*letStmt, error) {
	p.next()
	name, pos, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.expectPunct("="); err != nil {
		return nil, err
	}
	st := &letStmt{pos: pos, name: name}
	if p.isPunct("(") && (p.peekAt(1).text == ")" && p.peekAt(2).text == "{" || p.peekAt(1).kind == tIdent && p.peekAt(2).text == ":") {
		return nil, errorf(p.peek().pos, "unsupported: user-defined function in let %s (let f = (args) { ... })", name)
	}
	if p.isWord("view") {
		return nil, errorf(p.peek().pos, "unsupported: let %s = view", name)
	}
	if p.tabularAhead(p.i) {
		st.tab, err = p.tabular()
	} else {
		st.expr, err = p.expr()
	}
	if err != nil {
		return nil, err
	}
	if !p.acceptPunct(";") {
		return nil, p.unexpected("';' after let statement")
	}
	return st, nil
}

// tabularAhead guesses, without consuming, whether a tabular expression starts
// at token i. A bare name is treated as scalar here and resolved at run time.
func (p *parser) tabularAhead(i int) bool {
	if i >= len(p.toks) {
		return false
	}
	t := p.toks[i]
	at := func(n int) token { return p.toks[min(i+n, len(p.toks)-1)] }
	switch {
	case t.kind == tPunct && t.text == "(":
		return p.tabularAhead(i + 1)
	case t.kind != tIdent:
		return false
	case t.text == "datatable" || t.text == "materialize":
		return at(1).text == "("
	case t.text == "union":
		return true
	case t.text == "print":
		return at(1).text != "("
	case t.text == "range":
		return at(1).kind == tIdent && at(2).text == "from"
	}
	return at(1).kind == tPunct && at(1).text == "|"
}

// tabular parses Source | op | op ...
func (p *parser) tabular() (*pipeline, error) {
	pl := &pipeline{pos: p.peek().pos}
	src, err := p.source()
	if err != nil {
		return nil, err
	}
	pl.source = src
	for p.acceptPunct("|") {
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		pl.ops = append(pl.ops, op)
	}
	return pl, nil
}

// operand parses a table name or a parenthesized tabular expression: the
// right side of join and the arguments of union, which take no pipes of their own.
func (p *parser) operand() (*pipeline, string, error) {
	t := p.peek()
	if p.isPunct("(") {
		src, err := p.source()
		if err != nil {
			return nil, "", err
		}
		return &pipeline{pos: t.pos, source: src}, "", nil
	}
	name, pos, err := p.name()
	if err != nil {
		return nil, "", err
	}
	// wildcard table names (union Device*): glue a following '*'.
	for p.isPunct("*") && p.peek().glued {
		p.next()
		name += "*"
		if p.peek().kind == tIdent && p.peek().glued {
			name += p.next().text
		}
	}
	return &pipeline{pos: pos, source: &tableRef{pos: pos, name: name}}, name, nil
}

func (p *parser) source() (source, error) {
	t := p.peek()
	if p.acceptPunct("(") {
		inner, err := p.tabular()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return &subquery{pos: t.pos, t: inner}, nil
	}
	if t.kind != tIdent && !(t.kind == tPunct && t.text == "[") {
		return nil, p.unexpected("a table name or tabular expression")
	}
	switch t.text {
	case "union":
		p.next()
		u, err := p.unionArgs(t.pos)
		if err != nil {
			return nil, err
		}
		return &unionSrc{pos: t.pos, op: u}, nil
	case "datatable":
		p.next()
		return p.datatable(t.pos)
	case "print":
		p.next()
		items, err := p.assignList()
		if err != nil {
			return nil, err
		}
		return &printSrc{pos: t.pos, items: items}, nil
	case "range":
		if p.peekAt(1).kind == tIdent && p.peekAt(2).text == "from" {
			p.next()
			return p.rangeSource(t.pos)
		}
	case "materialize":
		if p.peekAt(1).text == "(" {
			p.next()
			return p.source()
		}
	case "find", "search", "externaldata", "external_table", "evaluate", "view", "invoke", "cluster", "database", "workspace", "app", "adx", "arg":
		if t.text != "workspace" && t.text != "app" || p.peekAt(1).text == "(" {
			return nil, errorf(t.pos, "unsupported tabular source '%s'", t.text)
		}
	}
	name, pos, err := p.name()
	if err != nil {
		return nil, err
	}
	return &tableRef{pos: pos, name: name}, nil
}

func (p *parser) datatable(pos Pos) (source, error) {
	src := &datatableSrc{pos: pos}
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	for !p.isPunct(")") {
		name, _, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		typ, tpos, err := p.name()
		if err != nil {
			return nil, err
		}
		ct, ok := canonicalType(typ)
		if !ok {
			return nil, errorf(tpos, "unknown type '%s'", typ)
		}
		src.cols = append(src.cols, Column{Name: name, Type: ct})
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	if err := p.expectPunct("["); err != nil {
		return nil, err
	}
	for !p.isPunct("]") {
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		src.values = append(src.values, v)
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectPunct("]"); err != nil {
		return nil, err
	}
	if len(src.cols) == 0 || len(src.values)%len(src.cols) != 0 {
		return nil, errorf(pos, "datatable has %d values, not a multiple of its %d columns", len(src.values), len(src.cols))
	}
	return src, nil
}

func (p *parser) rangeSource(pos Pos) (source, error) {
	name, _, err := p.name()
	if err != nil {
		return nil, err
	}
	r := &rangeSrc{pos: pos, name: name}
	if err := p.expectWord("from"); err != nil {
		return nil, err
	}
	if r.from, err = p.expr(); err != nil {
		return nil, err
	}
	if err := p.expectWord("to"); err != nil {
		return nil, err
	}
	if r.to, err = p.expr(); err != nil {
		return nil, err
	}
	if err := p.expectWord("step"); err != nil {
		return nil, err
	}
	if r.step, err = p.expr(); err != nil {
		return nil, err
	}
	return r, nil
}

// assignList parses "[Name =] expr, ..." as used by extend, project, print, summarize.
func (p *parser) assignList() ([]assign, error) {
	var items []assign
	for {
		a, err := p.assignment()
		if err != nil {
			return nil, err
		}
		items = append(items, a)
		if !p.acceptPunct(",") {
			return items, nil
		}
	}
}

func (p *parser) assignment() (assign, error) {
	t := p.peek()
	if t.kind == tPunct && t.text == "(" && p.peekAt(1).kind == tIdent && p.peekAt(2).text == "," {
		return assign{}, errorf(t.pos, "unsupported: tuple assignment (a, b) = ...")
	}
	if name, ok := p.assignedName(); ok {
		x, err := p.expr()
		return assign{name: name, x: x}, err
	}
	x, err := p.expr()
	return assign{x: x}, err
}

// assignedName consumes "Name =" when present.
func (p *parser) assignedName() (string, bool) {
	t := p.peek()
	if t.kind == tIdent && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "=" {
		p.next()
		p.next()
		return t.text, true
	}
	if t.kind == tPunct && t.text == "[" && p.peekAt(1).kind == tString && p.peekAt(2).text == "]" && p.peekAt(3).text == "=" && p.peekAt(3).kind == tPunct {
		p.i += 4
		return p.toks[p.i-3].text, true
	}
	return "", false
}

// canonicalType maps type names and their synonyms to the names used in Column.Type.
func canonicalType(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "bool", "boolean":
		return "bool", true
	case "int":
		return "int", true
	case "long":
		return "long", true
	case "real", "double":
		return "real", true
	case "decimal":
		return "decimal", true
	case "string":
		return "string", true
	case "datetime", "date":
		return "datetime", true
	case "timespan", "time":
		return "timespan", true
	case "guid", "uniqueid":
		return "guid", true
	case "dynamic":
		return "dynamic", true
	}
	return "", false
}
