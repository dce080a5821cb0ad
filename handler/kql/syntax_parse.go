package kql

import "strings"

// The parser is a hand-written recursive descent over the token list. This
// file holds the parser's token helpers, statements and pipeline sources;
// syntax_parse_ops.go the tabular operators; syntax_parse_expr.go scalar
// expressions and literals.

type parser struct {
	toks []token
	i    int
	// udfs holds the user-defined functions in scope by name: a call f(...)
	// of one of them parses as a call of that function.
	udfs map[string]*funcDef
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
	switch {
	case p.isWord("view") && p.peekAt(1).text == "(":
		vpos := p.next().pos
		st.fn, err = p.funcDef(name, vpos, true)
	case p.funcAhead():
		st.fn, err = p.funcDef(name, p.peek().pos, false)
	case p.tabularAhead(p.i):
		st.tab, err = p.tabular()
	default:
		st.expr, err = p.expr()
	}
	if err != nil {
		return nil, err
	}
	if st.fn != nil {
		p.declareFunc(st.fn)
	} else {
		delete(p.udfs, name)
	}
	if !p.acceptPunct(";") {
		if p.isPunct("|") && st.expr != nil {
			return nil, errorf(p.peek().pos, "expected ';' after let statement, found '|' (a let of a tabular expression must start with a table, a tabular function call or a tabular operator source)")
		}
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
	case t.text == "datatable" || t.text == "materialize" || t.text == "externaldata" || t.text == "external_data":
		return at(1).text == "("
	case t.text == "union":
		return true
	case t.text == "search":
		return searchFollows(at(1))
	case t.text == "print":
		return at(1).text != "("
	case t.text == "range":
		return at(1).kind == tIdent && at(2).text == "from"
	}
	if at(1).kind == tPunct && at(1).text == "(" {
		// f(args) | ...: a tabular function call; f(args) alone: tabular
		// when f is a user-defined function with a tabular body, or table().
		if fn := p.udfs[t.text]; t.text == "table" || fn != nil && (fn.tab != nil || fn.view) {
			return true
		}
		end := p.matching(i + 1)
		return end > 0 && p.toks[min(end+1, len(p.toks)-1)].text == "|"
	}
	return at(1).kind == tPunct && at(1).text == "|"
}

// searchFollows reports whether the token after the word search starts its
// arguments, making the word the search operator rather than a name.
func searchFollows(n token) bool {
	switch n.kind {
	case tEOF:
		return false
	case tPunct:
		return n.text == "*" || n.text == "("
	case tIdent:
		return n.text == "in" || n.text == "kind" || !stringOps[n.text] && !listOps[n.text] && n.text != "and" && n.text != "or" && n.text != "between" && n.text != "matches"
	}
	return true
}

// matching returns the index of the token closing the bracket at i, or -1.
func (p *parser) matching(i int) int {
	depth := 0
	for j := i; j < len(p.toks); j++ {
		t := p.toks[j]
		if t.kind != tPunct {
			if t.kind == tEOF {
				return -1
			}
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
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

// operand parses a table name (possibly with * wildcards, or * alone), a
// function call or a parenthesized tabular expression: the right side of join
// and the arguments of union, which take no pipes of their own.
func (p *parser) operand() (*pipeline, string, error) {
	t := p.peek()
	if p.isPunct("(") || t.kind == tIdent && p.peekAt(1).text == "(" && p.peekAt(1).kind == tPunct {
		src, err := p.source()
		if err != nil {
			return nil, "", err
		}
		return &pipeline{pos: t.pos, source: src}, "", nil
	}
	var name string
	var pos Pos
	if p.isPunct("*") {
		p.next()
		name, pos = "*", t.pos
		if p.peek().kind == tIdent && p.peek().glued {
			name += p.next().text
		}
	} else {
		var err error
		if name, pos, err = p.name(); err != nil {
			return nil, "", err
		}
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
	case "externaldata", "external_data":
		if p.peekAt(1).text == "(" {
			p.next()
			return p.externalData(t.pos)
		}
	case "search":
		if searchFollows(p.peekAt(1)) {
			p.next()
			op, err := p.searchArgs(t.pos, true)
			if err != nil {
				return nil, err
			}
			return &searchSrc{pos: t.pos, op: op}, nil
		}
	case "find", "evaluate", "view", "invoke", "cluster", "database", "workspace", "app", "adx", "arg", "external_table", "materialized_view", "entity_group", "graph":
		if t.text != "workspace" && t.text != "app" || p.peekAt(1).text == "(" {
			return nil, errorf(t.pos, "unsupported tabular source '%s'", t.text)
		}
	}
	if t.kind == tIdent && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
		p.next()
		args, err := p.callArgs(t.text)
		if err != nil {
			return nil, err
		}
		return &callSrc{pos: t.pos, name: t.text, args: args}, nil
	}
	name, pos, err := p.name()
	if err != nil {
		return nil, err
	}
	return &tableRef{pos: pos, name: name}, nil
}

// columns parses a schema's "Name:type, ..." up to its closing parenthesis, which it leaves; with
// star, a "*" entry (an open schema: a tabular parameter's, evaluate's "*, Name:type") is allowed,
// and starred says whether there was one.
func (p *parser) columns(star bool) (cols []Column, starred bool, err error) {
	for !p.isPunct(")") {
		if star && p.acceptPunct("*") {
			starred = true
			if !p.acceptPunct(",") {
				break
			}
			continue
		}
		name, _, err := p.name()
		if err != nil {
			return nil, false, err
		}
		if err := p.expectPunct(":"); err != nil {
			return nil, false, err
		}
		typ, tpos, err := p.name()
		if err != nil {
			return nil, false, err
		}
		ct, ok := canonicalType(typ)
		if !ok {
			return nil, false, errorf(tpos, "unknown type '%s'", typ)
		}
		cols = append(cols, Column{Name: name, Type: ct})
		if !p.acceptPunct(",") {
			break
		}
	}
	return cols, starred, nil
}

func (p *parser) datatable(pos Pos) (source, error) {
	src := &datatableSrc{pos: pos}
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	cols, _, err := p.columns(false)
	if err != nil {
		return nil, err
	}
	src.cols = cols
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
func (p *parser) assignList() ([]assign, error) { return p.assignItems(false) }

// assignItems parses an assignment list; with tuples, "(A, B) = expr" too.
func (p *parser) assignItems(tuples bool) ([]assign, error) {
	var items []assign
	for {
		a, err := p.assignment()
		if err != nil {
			return nil, err
		}
		if a.names != nil && !tuples {
			return nil, errorf(a.x.exprPos(), "a tuple assignment (%s) = ... is allowed only in extend and summarize", strings.Join(a.names, ", "))
		}
		items = append(items, a)
		if !p.acceptPunct(",") {
			return items, nil
		}
	}
}

func (p *parser) assignment() (assign, error) {
	if names, ok := p.tupleNames(); ok {
		x, err := p.expr()
		return assign{names: names, x: x}, err
	}
	if name, ok := p.assignedName(); ok {
		x, err := p.expr()
		return assign{name: name, x: x}, err
	}
	x, err := p.expr()
	return assign{x: x}, err
}

// tupleNames consumes "(A, B, ...) =" when present.
func (p *parser) tupleNames() ([]string, bool) {
	if !p.isPunct("(") {
		return nil, false
	}
	end := p.matching(p.i)
	if end < 0 || p.toks[min(end+1, len(p.toks)-1)].text != "=" || p.toks[min(end+1, len(p.toks)-1)].kind != tPunct {
		return nil, false
	}
	save := p.i
	p.next()
	var names []string
	for {
		name, _, err := p.name()
		if err != nil {
			p.i = save
			return nil, false
		}
		names = append(names, name)
		if !p.acceptPunct(",") {
			break
		}
	}
	if !p.acceptPunct(")") || !p.acceptPunct("=") {
		p.i = save
		return nil, false
	}
	return names, true
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
