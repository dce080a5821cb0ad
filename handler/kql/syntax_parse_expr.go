package kql

import (
	"strings"
	"time"
)

// Scalar expression grammar, lowest precedence first:
//
//	or  ->  and  ->  comparison and string operators (==, has, in, between...)
//	    ->  + -  ->  * / %  ->  unary -  ->  postfix (.name, [index], call)  ->  primary

func (p *parser) expr() (expr, error) { return p.or() }

func (p *parser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.isWord("or") {
		t := p.next()
		var r expr
		if r, err = p.and(); err == nil {
			l = &binary{pos: t.pos, op: "or", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (expr, error) {
	l, err := p.comparison()
	for err == nil && p.isWord("and") {
		t := p.next()
		var r expr
		if r, err = p.comparison(); err == nil {
			l = &binary{pos: t.pos, op: "and", l: l, r: r}
		}
	}
	return l, err
}

var comparePuncts = map[string]string{
	"==": "==", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "=~": "=~", "!~": "!~",
}

// stringOps are the word operators between two scalars.
var stringOps = map[string]bool{
	"has": true, "!has": true, "has_cs": true, "!has_cs": true,
	"hasprefix": true, "!hasprefix": true, "hasprefix_cs": true, "!hasprefix_cs": true,
	"hassuffix": true, "!hassuffix": true, "hassuffix_cs": true, "!hassuffix_cs": true,
	"contains": true, "!contains": true, "contains_cs": true, "!contains_cs": true,
	"startswith": true, "!startswith": true, "startswith_cs": true, "!startswith_cs": true,
	"endswith": true, "!endswith": true, "endswith_cs": true, "!endswith_cs": true,
}

var listOps = map[string]bool{
	"in": true, "!in": true, "in~": true, "!in~": true, "has_any": true, "has_all": true,
}

func (p *parser) comparison() (expr, error) {
	if t := p.peek(); t.kind == tPunct && t.text == "*" && p.peekAt(1).kind == tIdent && stringOps[p.peekAt(1).text] {
		// * has "x": the string operator over every column (where, search).
		p.next()
		op := p.next().text
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &call{pos: t.pos, name: fnSearchTerm, args: []expr{&literal{pos: t.pos, val: "", typ: "string"}, &literal{pos: t.pos, val: op, typ: "string"}, r}}, nil
	}
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tPunct && comparePuncts[t.text] != "":
			p.next()
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			l = &binary{pos: t.pos, op: comparePuncts[t.text], l: l, r: r}
		case t.kind == tIdent && stringOps[t.text]:
			p.next()
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			l = &binary{pos: t.pos, op: t.text, l: l, r: r}
		case t.kind == tIdent && t.text == "matches" && p.peekAt(1).text == "regex":
			p.i += 2
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			l = &binary{pos: t.pos, op: "matches regex", l: l, r: r}
		case t.kind == tIdent && listOps[t.text]:
			p.next()
			list, err := p.exprList()
			if err != nil {
				return nil, err
			}
			l = &inList{pos: t.pos, op: t.text, x: l, list: list}
		case t.kind == tIdent && (t.text == "between" || t.text == "!between"):
			p.next()
			if err := p.expectPunct("("); err != nil {
				return nil, err
			}
			lo, err := p.additive()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct(".."); err != nil {
				return nil, err
			}
			hi, err := p.additive()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct(")"); err != nil {
				return nil, err
			}
			l = &between{pos: t.pos, neg: t.text == "!between", x: l, lo: lo, hi: hi}
		case t.kind == tIdent && (t.text == "like" || t.text == "notlike" || t.text == "has_any_cs" || t.text == "has_all_cs" || t.text == "!has_any"):
			return nil, errorf(t.pos, "unsupported operator '%s'", t.text)
		default:
			return l, nil
		}
	}
}

// exprList parses ( item, ... ) where an item may be a tabular expression.
func (p *parser) exprList() ([]expr, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var list []expr
	for !p.isPunct(")") {
		x, err := p.argument()
		if err != nil {
			return nil, err
		}
		list = append(list, x)
		if !p.acceptPunct(",") {
			break
		}
	}
	return list, p.expectPunct(")")
}

// argument is a function argument or list item: a scalar, *, or a tabular expression.
func (p *parser) argument() (expr, error) {
	t := p.peek()
	if t.kind == tPunct && t.text == "*" && (p.peekAt(1).text == ")" || p.peekAt(1).text == ",") {
		p.next()
		return &star{pos: t.pos}, nil
	}
	if p.tabularAhead(p.i) {
		tab, err := p.tabular()
		return &tabularExpr{pos: t.pos, t: tab}, err
	}
	return p.expr()
}

func (p *parser) additive() (expr, error) {
	l, err := p.multiplicative()
	for err == nil && (p.isPunct("+") || p.isPunct("-")) {
		t := p.next()
		var r expr
		if r, err = p.multiplicative(); err == nil {
			l = &binary{pos: t.pos, op: t.text, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) multiplicative() (expr, error) {
	l, err := p.unary()
	for err == nil && (p.isPunct("*") || p.isPunct("/") || p.isPunct("%")) {
		t := p.next()
		var r expr
		if r, err = p.unary(); err == nil {
			l = &binary{pos: t.pos, op: t.text, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) unary() (expr, error) {
	if p.isPunct("-") || p.isPunct("+") {
		t := p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if lit, ok := x.(*literal); ok && t.text == "-" {
			switch v := lit.val.(type) {
			case int64:
				return &literal{pos: t.pos, val: -v, typ: lit.typ}, nil
			case float64:
				return &literal{pos: t.pos, val: -v, typ: lit.typ}, nil
			case time.Duration:
				return &literal{pos: t.pos, val: -v, typ: lit.typ}, nil
			}
		}
		return &unary{pos: t.pos, op: t.text, x: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tPunct && t.text == "." && p.peekAt(1).text == "[" && p.peekAt(1).kind == tPunct && p.peekAt(2).kind != tString:
			// Col.[0]: an index after a dot, as Kusto allows.
			p.next()
			continue
		case t.kind == tPunct && t.text == ".":
			p.next()
			name, _, err := p.name()
			if err != nil {
				return nil, err
			}
			x = &member{pos: t.pos, x: x, name: name}
		case t.kind == tPunct && t.text == "[":
			p.next()
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct("]"); err != nil {
				return nil, err
			}
			if lit, ok := idx.(*literal); ok && lit.typ == "string" {
				x = &member{pos: t.pos, x: x, name: lit.val.(string)}
			} else {
				x = &index{pos: t.pos, x: x, idx: idx}
			}
		default:
			return x, nil
		}
	}
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch t.kind {
	case tString:
		s := ""
		for p.peek().kind == tString { // adjacent literals concatenate
			s += p.next().text
		}
		return &literal{pos: t.pos, val: s, typ: "string"}, nil
	case tLong:
		p.next()
		return &literal{pos: t.pos, val: t.val, typ: "long"}, nil
	case tReal:
		p.next()
		return &literal{pos: t.pos, val: t.val, typ: "real"}, nil
	case tTimespan:
		p.next()
		return &literal{pos: t.pos, val: t.val, typ: "timespan"}, nil
	case tPunct:
		switch t.text {
		case "(":
			p.next()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			return x, p.expectPunct(")")
		case "[":
			name, pos, err := p.name()
			if err != nil {
				return nil, err
			}
			return &ident{pos: pos, name: name}, nil
		}
		return nil, p.unexpected("an expression")
	case tIdent:
		return p.identOrCall()
	}
	return nil, p.unexpected("an expression")
}

func (p *parser) identOrCall() (expr, error) {
	t := p.next()
	switch t.text {
	case "true", "false":
		if p.peek().kind != tPunct || p.peek().text != "(" {
			return &literal{pos: t.pos, val: t.text == "true", typ: "bool"}, nil
		}
	case "dynamic":
		if p.isPunct("(") {
			p.next()
			v, err := p.dynamicValue()
			if err != nil {
				return nil, err
			}
			return &literal{pos: t.pos, val: v, typ: "dynamic"}, p.expectPunct(")")
		}
	case "typeof":
		if p.isPunct("(") {
			p.next()
			name, npos, err := p.name()
			if err != nil {
				return nil, err
			}
			ct, ok := canonicalType(name)
			if !ok {
				return nil, errorf(npos, "unknown type '%s'", name)
			}
			return &typeRef{pos: t.pos, typ: ct}, p.expectPunct(")")
		}
	}
	if p.peek().kind == tRaw {
		raw := p.next()
		typ, _ := canonicalType(t.text)
		v, err := parseTypedLiteral(typ, raw.text)
		if err != nil {
			return nil, errorf(raw.pos, "%v", err)
		}
		return &literal{pos: t.pos, val: v, typ: typ}, nil
	}
	if p.isPunct("(") && p.udfs[t.text] != nil {
		// A user-defined function: the call names it in its first argument.
		args, err := p.callArgs(t.text)
		if err != nil {
			return nil, err
		}
		return &call{pos: t.pos, name: fnUserCall, args: append([]expr{&literal{pos: t.pos, val: t.text, typ: "string"}}, args...)}, nil
	}
	if p.isPunct("(") {
		p.next()
		c := &call{pos: t.pos, name: t.text}
		for !p.isPunct(")") {
			a, err := p.argument()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			if !p.acceptPunct(",") {
				break
			}
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		if typ, ok := canonicalType(t.text); ok && rawLiteralTypes[t.text] {
			// datetime("2024-01-01"), int(null) with a quoted argument: a typed literal.
			if len(c.args) == 1 {
				if lit, ok := c.args[0].(*literal); ok && lit.typ == "string" {
					v, err := parseTypedLiteral(typ, lit.val.(string))
					if err != nil {
						return nil, errorf(lit.pos, "%v", err)
					}
					return &literal{pos: t.pos, val: v, typ: typ}, nil
				}
			}
			return nil, errorf(t.pos, "%s(...) takes a literal; use to%s() to convert an expression", t.text, typ)
		}
		return c, nil
	}
	return &ident{pos: t.pos, name: t.text}, nil
}

// dynamicValue parses the JSON-like content of dynamic(...).
func (p *parser) dynamicValue() (any, error) {
	t := p.peek()
	switch {
	case t.kind == tPunct && t.text == "[":
		p.next()
		arr := []any{}
		for !p.isPunct("]") {
			v, err := p.dynamicValue()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			if !p.acceptPunct(",") {
				break
			}
		}
		return arr, p.expectPunct("]")
	case t.kind == tPunct && t.text == "{":
		p.next()
		obj := map[string]any{}
		for !p.isPunct("}") {
			k := p.next()
			if k.kind != tString && k.kind != tIdent {
				return nil, errorf(k.pos, "expected a property name in dynamic literal")
			}
			if err := p.expectPunct(":"); err != nil {
				return nil, err
			}
			v, err := p.dynamicValue()
			if err != nil {
				return nil, err
			}
			obj[k.text] = v
			if !p.acceptPunct(",") {
				break
			}
		}
		return obj, p.expectPunct("}")
	case t.kind == tIdent && t.text == "null":
		p.next()
		return nil, nil
	case t.kind == tPunct && t.text == ")":
		return nil, nil // dynamic() is null
	}
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	lit, ok := x.(*literal)
	if !ok {
		return nil, errorf(x.exprPos(), "dynamic literal holds only constants")
	}
	return lit.val, nil
}

// parseTypedLiteral reads the text of datetime(...), timespan(...), int(...)...
func parseTypedLiteral(typ, s string) (any, error) {
	s = strings.TrimSpace(s)
	if s == "null" {
		return nil, nil
	}
	v, ok := convertString(typ, s)
	if !ok {
		return nil, &literalError{typ: typ, text: s}
	}
	return v, nil
}

type literalError struct{ typ, text string }

func (e *literalError) Error() string { return "bad " + e.typ + " literal '" + e.text + "'" }
