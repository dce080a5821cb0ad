package kql

import "strings"

// The parser's user-defined functions and views (let f = (a:long) { ... };
// let V = view () { ... };) and externaldata.

// funcAhead reports whether a let's value is a function: "(" followed by ")"
// and "{", or by "name :".
func (p *parser) funcAhead() bool {
	if !p.isPunct("(") {
		return false
	}
	if p.peekAt(1).text == ")" && p.peekAt(1).kind == tPunct {
		return p.peekAt(2).text == "{" && p.peekAt(2).kind == tPunct
	}
	return p.peekAt(1).kind == tIdent && p.peekAt(2).text == ":" && p.peekAt(2).kind == tPunct
}

// funcDef parses "(params) { lets; body }".
func (p *parser) funcDef(name string, pos Pos, view bool) (*funcDef, error) {
	fn := &funcDef{pos: pos, name: name, view: view}
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	for !p.isPunct(")") {
		prm, err := p.funcParam()
		if err != nil {
			return nil, err
		}
		for _, q := range fn.params {
			if q.name == prm.name {
				return nil, errorf(prm.pos, "parameter '%s' is declared twice", prm.name)
			}
		}
		if prm.def == nil && len(fn.params) > 0 && fn.params[len(fn.params)-1].def != nil {
			return nil, errorf(prm.pos, "parameter '%s' needs a default value: it follows a parameter that has one", prm.name)
		}
		fn.params = append(fn.params, prm)
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	if err := p.expectPunct("{"); err != nil {
		return nil, err
	}
	// The body sees the parameters, not functions of the same name.
	saved := p.udfs
	p.udfs = map[string]*funcDef{}
	for k, v := range saved {
		p.udfs[k] = v
	}
	for _, prm := range fn.params {
		delete(p.udfs, prm.name)
	}
	defer func() { p.udfs = saved }()
	for {
		for p.acceptPunct(";") {
		}
		if !p.isWord("let") {
			break
		}
		st, err := p.let()
		if err != nil {
			return nil, err
		}
		fn.lets = append(fn.lets, st)
	}
	if p.isPunct("}") {
		return nil, errorf(p.peek().pos, "the body of function '%s' has no expression", name)
	}
	var err error
	if p.tabularAhead(p.i) {
		fn.tab, err = p.tabular()
	} else {
		fn.expr, err = p.expr()
	}
	if err != nil {
		return nil, err
	}
	for p.acceptPunct(";") {
	}
	if !p.isPunct("}") {
		if p.isPunct("|") && fn.expr != nil {
			return nil, errorf(p.peek().pos, "expected '}' after the body of function '%s', found '|'", name)
		}
		return nil, p.unexpected("'}' after the body of function '" + name + "'")
	}
	p.next()
	return fn, nil
}

// funcParam parses "name:type [= default]" or "name:(col:type, ...)" or "name:(*)".
func (p *parser) funcParam() (funcParam, error) {
	name, pos, err := p.name()
	if err != nil {
		return funcParam{}, err
	}
	prm := funcParam{pos: pos, name: name}
	if err := p.expectPunct(":"); err != nil {
		return prm, err
	}
	if p.acceptPunct("(") {
		prm.tabular = true
		if p.acceptPunct("*") {
			return prm, p.expectPunct(")")
		}
		cols, _, err := p.columns(true)
		if err != nil {
			return prm, err
		}
		prm.cols = cols
		return prm, p.expectPunct(")")
	}
	tname, tpos, err := p.name()
	if err != nil {
		return prm, err
	}
	ct, ok := canonicalType(tname)
	if !ok {
		return prm, errorf(tpos, "unknown type '%s'", tname)
	}
	prm.typ = ct
	if p.acceptPunct("=") {
		if prm.def, err = p.expr(); err != nil {
			return prm, err
		}
	}
	return prm, nil
}

// declareFunc makes later calls f(...) parse as calls of fn.
func (p *parser) declareFunc(fn *funcDef) {
	if p.udfs == nil {
		p.udfs = map[string]*funcDef{}
	}
	p.udfs[fn.name] = fn
}

// missingArg stands for an argument left out of a call, when a later one is
// given by name: f(c=7) leaves out b.
var missingArg = "\x00missing"

// callArgs parses "(args)" after a function name. Arguments of a declared
// function may be given by name (f(12, c=7), f(c=7, a=12)); they are put in
// the order of its parameters, and a parameter left out before one given is
// filled in with its default value.
func (p *parser) callArgs(name string) ([]expr, error) { return p.callArgsFrom(name, 0) }

// callArgsFrom is callArgs for a call whose first skip parameters are passed
// otherwise (invoke passes its input as the first).
func (p *parser) callArgsFrom(name string, skip int) ([]expr, error) {
	fn := p.udfs[name]
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var args []expr
	named := map[string]expr{}
	var namedPos []Pos
	for !p.isPunct(")") {
		if fn != nil && p.peek().kind == tIdent && p.peekAt(1).text == "=" && p.peekAt(1).kind == tPunct {
			key := p.next()
			p.next()
			x, err := p.argument()
			if err != nil {
				return nil, err
			}
			if _, dup := named[key.text]; dup {
				return nil, errorf(key.pos, "argument '%s' is given twice", key.text)
			}
			named[key.text] = x
			namedPos = append(namedPos, key.pos)
		} else {
			if len(named) > 0 {
				return nil, errorf(p.peek().pos, "a positional argument cannot follow a named one")
			}
			x, err := p.argument()
			if err != nil {
				return nil, err
			}
			args = append(args, x)
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	if len(named) == 0 {
		return args, nil
	}
	args = append(make([]expr, skip), args...)
	i := 0
	for key, x := range named {
		found := false
		for j, prm := range fn.params {
			if prm.name != key {
				continue
			}
			found = true
			if j < len(args) && args[j] != nil {
				return nil, errorf(x.exprPos(), "argument '%s' is given twice", key)
			}
			for len(args) <= j {
				args = append(args, nil)
			}
			args[j] = x
		}
		if !found {
			return nil, errorf(namedPos[i], "function '%s' has no parameter '%s'", name, key)
		}
		i++
	}
	for j, a := range args {
		if a != nil || j < skip {
			continue
		}
		if d := fn.params[j].def; d != nil {
			args[j] = d
		} else {
			args[j] = &literal{pos: Pos{}, val: nil, typ: missingArg}
		}
	}
	return args[skip:], nil
}

// externalData parses "(cols) [urls] [with (props)]" after externaldata.
func (p *parser) externalData(pos Pos) (source, error) {
	src := &externalSrc{pos: pos, props: map[string]string{}}
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
	if len(src.cols) == 0 {
		return nil, errorf(pos, "externaldata needs at least one column: externaldata (Name:type, ...) [url]")
	}
	if err := p.expectPunct("["); err != nil {
		return nil, err
	}
	for !p.isPunct("]") {
		t := p.peek()
		if t.kind != tString {
			return nil, p.unexpected("a URL string literal")
		}
		url := ""
		for p.peek().kind == tString {
			url += p.next().text
		}
		src.urls = append(src.urls, url)
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectPunct("]"); err != nil {
		return nil, err
	}
	if len(src.urls) == 0 {
		return nil, errorf(pos, "externaldata needs a URL: externaldata (...) [@\"https://...\"]")
	}
	if p.acceptWord("with") {
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		for !p.isPunct(")") {
			key, _, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct("="); err != nil {
				return nil, err
			}
			v := p.peek()
			if v.kind == tEOF || v.kind == tPunct && (v.text == ")" || v.text == ",") {
				return nil, p.unexpected("a property value")
			}
			p.next()
			src.props[strings.ToLower(key)] = v.text
			if !p.acceptPunct(",") {
				break
			}
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
	}
	return src, nil
}
