package kql

// The parser's less common tabular operators: render (accepted, ignored),
// invoke, mv-apply, make-series, top-nested, evaluate, partition.

// render skips its arguments: "render chart [with (k = v, ...)]", or the legacy
// "render chart k=v ...". It ends at the next pipe, ';', unbalanced ')' or the end.
func (p *parser) render(pos Pos) (operator, error) {
	if p.peek().kind != tIdent {
		return nil, p.unexpected("a visualization such as timechart after render")
	}
	depth := 0
	for {
		t := p.peek()
		if t.kind == tEOF || depth == 0 && t.kind == tPunct && (t.text == "|" || t.text == ";" || t.text == ")") {
			break
		}
		if t.kind == tPunct {
			switch t.text {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
			}
		}
		p.next()
	}
	return &renderOp{pos: pos}, nil
}

func (p *parser) invoke(pos Pos) (operator, error) {
	name, _, err := p.name()
	if err != nil {
		return nil, err
	}
	if !p.isPunct("(") {
		return nil, p.unexpected("'(' after invoke " + name)
	}
	args, err := p.callArgsFrom(name, 1)
	if err != nil {
		return nil, err
	}
	return &invokeOp{pos: pos, name: name, args: args}, nil
}

// subOps parses "( op | op ... )": operators over an implicit source.
func (p *parser) subOps(what string) ([]operator, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	if p.isPunct(")") {
		return nil, errorf(p.peek().pos, "the %s subquery is empty", what)
	}
	var ops []operator
	for {
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
		if !p.acceptPunct("|") {
			break
		}
	}
	return ops, p.expectPunct(")")
}

func (p *parser) mvApply(pos Pos) (operator, error) {
	ex, err := p.mvExpand(pos)
	if err != nil {
		return nil, err
	}
	op := &mvApplyOp{pos: pos, expand: ex.(*mvExpandOp)}
	if op.expand.bagArray {
		return nil, errorf(pos, "mv-apply does not take kind=array (expand the bag with mv-expand inside the subquery)")
	}
	if err := p.expectWord("on"); err != nil {
		return nil, err
	}
	if op.ops, err = p.subOps("mv-apply"); err != nil {
		return nil, err
	}
	return op, nil
}

func (p *parser) makeSeries(pos Pos) (operator, error) {
	op := &makeSeriesOp{pos: pos}
	for {
		p.hints()
		if !p.isWord("kind") || p.peekAt(1).text != "=" {
			break
		}
		p.i += 2
		k, kpos, err := p.name()
		if err != nil {
			return nil, err
		}
		if k != "nonempty" {
			return nil, errorf(kpos, "unknown make-series kind '%s' (want nonempty)", k)
		}
		op.nonempty = true
	}
	for {
		a, err := p.assignment()
		if err != nil {
			return nil, err
		}
		var def expr
		if p.isWord("default") && p.peekAt(1).text == "=" {
			p.i += 2
			if def, err = p.unary(); err != nil {
				return nil, err
			}
		}
		op.aggs = append(op.aggs, a)
		op.defaults = append(op.defaults, def)
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectWord("on"); err != nil {
		return nil, err
	}
	var err error
	if op.axis, err = p.additive(); err != nil {
		return nil, err
	}
	if p.isWord("in") && p.peekAt(1).text == "range" {
		// The alternate syntax: on Axis in range(start, stop, step).
		p.i += 2
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		bounds := make([]expr, 3)
		for i := range bounds {
			if i > 0 {
				if err := p.expectPunct(","); err != nil {
					return nil, err
				}
			}
			if bounds[i], err = p.expr(); err != nil {
				return nil, err
			}
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		op.from, op.to, op.step, op.inRange = bounds[0], bounds[1], bounds[2], true
		if p.acceptWord("by") {
			if op.by, err = p.assignList(); err != nil {
				return nil, err
			}
		}
		return op, nil
	}
	if p.acceptWord("from") {
		if op.from, err = p.additive(); err != nil {
			return nil, err
		}
	}
	if p.acceptWord("to") {
		if op.to, err = p.additive(); err != nil {
			return nil, err
		}
	}
	if err := p.expectWord("step"); err != nil {
		return nil, err
	}
	if op.step, err = p.additive(); err != nil {
		return nil, err
	}
	if p.acceptWord("by") {
		if op.by, err = p.assignList(); err != nil {
			return nil, err
		}
	}
	return op, nil
}

func (p *parser) topNested(pos Pos) (operator, error) {
	op := &topNestedOp{pos: pos}
	for {
		lv := topNestedLevel{pos: p.peek().pos}
		var err error
		if !p.isWord("of") {
			if lv.n, err = p.additive(); err != nil {
				return nil, err
			}
		}
		if err := p.expectWord("of"); err != nil {
			return nil, err
		}
		a, err := p.assignment()
		if err != nil {
			return nil, err
		}
		lv.name, lv.x = a.name, a.x
		if p.isWord("with") {
			p.next()
			if err := p.expectWord("others"); err != nil {
				return nil, err
			}
			if err := p.expectPunct("="); err != nil {
				return nil, err
			}
			if lv.others, err = p.additive(); err != nil {
				return nil, err
			}
		}
		if err := p.expectWord("by"); err != nil {
			return nil, err
		}
		if a, err = p.assignment(); err != nil {
			return nil, err
		}
		lv.aggName, lv.agg = a.name, a.x
		if p.acceptWord("asc") {
			lv.asc = true
		} else {
			p.acceptWord("desc")
		}
		op.levels = append(op.levels, lv)
		if !(p.isPunct(",") && p.peekAt(1).text == "top-nested") {
			return op, nil
		}
		p.i += 2
	}
}

func (p *parser) evaluate(pos Pos) (operator, error) {
	p.hints()
	name, npos, err := p.name()
	if err != nil {
		return nil, err
	}
	op := &evaluateOp{pos: npos, plugin: name, named: map[string]expr{}}
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	for !p.isPunct(")") {
		if p.peek().kind == tIdent && p.peekAt(1).text == "=" && p.peekAt(1).kind == tPunct {
			key := p.next().text
			p.next()
			x, err := p.argument()
			if err != nil {
				return nil, err
			}
			op.named[key] = x
		} else {
			x, err := p.argument()
			if err != nil {
				return nil, err
			}
			op.args = append(op.args, x)
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	if p.acceptPunct(":") {
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		schema, star, err := p.columns(true)
		if err != nil {
			return nil, err
		}
		op.schema, op.star = schema, star
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		if op.schema == nil {
			op.schema = []Column{}
		}
	}
	return op, nil
}

func (p *parser) partition(pos Pos) (operator, error) {
	p.hints()
	if err := p.expectWord("by"); err != nil {
		return nil, err
	}
	// The key is a column: partition by Col (...), not a call Col(...).
	name, npos, err := p.name()
	if err != nil {
		return nil, err
	}
	key := &ident{pos: npos, name: name}
	p.hints()
	if p.isPunct("{") {
		return nil, errorf(p.peek().pos, "unsupported: partition by ... { subquery with its own source }; write partition by Col ( operators )")
	}
	ops, err := p.subOps("partition")
	if err != nil {
		return nil, err
	}
	return &partitionOp{pos: pos, key: key, ops: ops}, nil
}
