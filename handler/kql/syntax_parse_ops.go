package kql

import "strings"

// The parser's tabular operators: each name after a pipe (where, summarize,
// join, mv-expand, parse...) and the clauses it takes.

// unsupportedOps are real KQL operators this engine does not run; naming them
// gives a clearer error than "unknown operator".
var unsupportedOps = map[string]bool{
	"facet": true, "fork": true, "sample-distinct": true, "scan": true,
	"find": true, "reduce": true, "top-hitters": true, "parse-kv": true,
	"project-smart": true, "consume": true, "execute-and-cache": true, "graph-match": true,
	"make-graph": true, "assert-schema": true, "externaldata": true, "lookup-table": true,
}

func (p *parser) operator() (operator, error) {
	t := p.peek()
	if t.kind != tIdent {
		return nil, p.unexpected("a tabular operator after '|'")
	}
	p.next()
	pos := t.pos
	switch t.text {
	case "where", "filter":
		x, err := p.expr()
		return &whereOp{pos: pos, pred: x}, err
	case "extend":
		items, err := p.assignItems(true)
		return &extendOp{pos: pos, items: items}, err
	case "project":
		items, err := p.assignList()
		return &projectOp{pos: pos, items: items}, err
	case "project-away", "project-keep", "project-reorder":
		return p.projectAway(pos, t.text)
	case "project-rename":
		return p.projectRename(pos)
	case "summarize":
		return p.summarize(pos)
	case "join", "lookup":
		return p.join(pos, t.text == "lookup")
	case "union":
		return p.unionArgs(pos)
	case "order", "sort":
		if err := p.expectWord("by"); err != nil {
			return nil, err
		}
		keys, err := p.sortKeys()
		return &sortOp{pos: pos, keys: keys}, err
	case "take", "limit":
		n, err := p.expr()
		return &takeOp{pos: pos, n: n}, err
	case "top":
		return p.top(pos)
	case "distinct":
		if p.acceptPunct("*") {
			return &distinctOp{pos: pos}, nil
		}
		items, err := p.assignList()
		return &distinctOp{pos: pos, items: items}, err
	case "count":
		return &countOp{pos: pos}, nil
	case "mv-expand", "mvexpand":
		return p.mvExpand(pos)
	case "mv-apply":
		return p.mvApply(pos)
	case "render":
		return p.render(pos)
	case "invoke":
		return p.invoke(pos)
	case "make-series":
		return p.makeSeries(pos)
	case "top-nested":
		return p.topNested(pos)
	case "evaluate":
		return p.evaluate(pos)
	case "partition":
		return p.partition(pos)
	case "sample":
		n, err := p.expr()
		return &sampleOp{pos: pos, n: n}, err
	case "as":
		p.hints()
		name, _, err := p.name()
		return &asOp{pos: pos, name: name}, err
	case "search":
		return p.searchArgs(pos, false)
	case "parse", "parse-where":
		return p.parseOperator(pos, t.text == "parse-where")
	case "getschema":
		return &getschemaOp{pos: pos}, nil
	case "serialize":
		op := &serializeOp{pos: pos}
		if !p.atEnd() {
			items, err := p.assignList()
			if err != nil {
				return nil, err
			}
			op.items = items
		}
		return op, nil
	}
	if unsupportedOps[t.text] {
		return nil, errorf(pos, "unsupported tabular operator '%s'", t.text)
	}
	return nil, errorf(pos, "unknown tabular operator '%s'", t.text)
}

func (p *parser) projectAway(pos Pos, kind string) (operator, error) {
	op := &projectAwayOp{pos: pos, kind: kind}
	for {
		var pat string
		if p.isPunct("*") {
			p.next()
			pat = "*"
		}
		if p.peek().kind == tIdent || p.isPunct("[") {
			if pat != "" && !p.peek().glued {
				return nil, p.unexpected("',' after '*'")
			}
			name, _, err := p.name()
			if err != nil {
				return nil, err
			}
			pat += name
		}
		for p.isPunct("*") && p.peek().glued {
			p.next()
			pat += "*"
			if p.peek().kind == tIdent && p.peek().glued {
				pat += p.next().text
			}
		}
		if pat == "" {
			return nil, p.unexpected("a column name")
		}
		if kind == "project-reorder" && (p.isWord("asc") || p.isWord("desc") || p.isWord("granny-asc") || p.isWord("granny-desc")) {
			return nil, errorf(p.peek().pos, "unsupported: project-reorder %s", p.peek().text)
		}
		op.patterns = append(op.patterns, pat)
		if !p.acceptPunct(",") {
			return op, nil
		}
	}
}

func (p *parser) projectRename(pos Pos) (operator, error) {
	op := &projectRenameOp{pos: pos}
	for {
		newName, _, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct("="); err != nil {
			return nil, err
		}
		oldName, _, err := p.name()
		if err != nil {
			return nil, err
		}
		op.newNames = append(op.newNames, newName)
		op.oldNames = append(op.oldNames, oldName)
		if !p.acceptPunct(",") {
			return op, nil
		}
	}
}

// hints skips hint.name=value pairs (they only steer distributed execution).
func (p *parser) hints() {
	for p.peek().kind == tIdent && strings.HasPrefix(p.peek().text, "hint") && p.peekAt(1).text == "." {
		p.i += 3 // hint . name
		if p.acceptPunct("=") {
			p.next()
		}
	}
}

func (p *parser) summarize(pos Pos) (operator, error) {
	p.hints()
	op := &summarizeOp{pos: pos}
	var err error
	if !p.isWord("by") && !p.atEnd() {
		if op.aggs, err = p.assignItems(true); err != nil {
			return nil, err
		}
	}
	if p.acceptWord("by") {
		if op.by, err = p.assignList(); err != nil {
			return nil, err
		}
	}
	if len(op.aggs) == 0 && len(op.by) == 0 {
		return nil, p.unexpected("aggregations or 'by'")
	}
	return op, nil
}

var joinKinds = map[string]bool{
	"innerunique": true, "inner": true, "leftouter": true, "rightouter": true, "fullouter": true,
	"leftanti": true, "leftantisemi": true, "rightanti": true, "rightantisemi": true, "leftsemi": true, "rightsemi": true,
	"anti": true,
}

func (p *parser) join(pos Pos, lookup bool) (operator, error) {
	op := &joinOp{pos: pos, kind: "innerunique", lookup: lookup}
	if lookup {
		op.kind = "leftouter"
	}
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
		if !joinKinds[k] || lookup && k != "leftouter" && k != "inner" {
			return nil, errorf(kpos, "unsupported join kind '%s'", k)
		}
		op.kind = map[string]string{"leftantisemi": "leftanti", "rightantisemi": "rightanti", "anti": "leftanti"}[k]
		if op.kind == "" {
			op.kind = k
		}
	}
	right, _, err := p.operand()
	if err != nil {
		return nil, err
	}
	op.right = right
	if err := p.expectWord("on"); err != nil {
		return nil, err
	}
	for {
		l, r, kp, err := p.joinCondition()
		if err != nil {
			return nil, err
		}
		op.leftKeys = append(op.leftKeys, l)
		op.rightKeys = append(op.rightKeys, r)
		op.keyPos = append(op.keyPos, kp)
		if !p.acceptPunct(",") && !p.acceptWord("and") {
			return op, nil
		}
	}
}

// joinCondition parses "Col" or "$left.A == $right.B" (either side first).
func (p *parser) joinCondition() (left, right string, pos Pos, err error) {
	pos = p.peek().pos
	side := func() (string, string, error) {
		if p.isWord("$left") || p.isWord("$right") {
			s := p.next().text
			if err := p.expectPunct("."); err != nil {
				return "", "", err
			}
			n, _, err := p.name()
			return s, n, err
		}
		n, _, err := p.name()
		return "", n, err
	}
	s1, n1, err := side()
	if err != nil {
		return "", "", pos, err
	}
	if s1 == "" {
		if p.isPunct("==") {
			return "", "", pos, errorf(pos, "join condition must use $left.Column == $right.Column")
		}
		return n1, n1, pos, nil
	}
	if err := p.expectPunct("=="); err != nil {
		return "", "", pos, err
	}
	s2, n2, err := side()
	if err != nil {
		return "", "", pos, err
	}
	switch {
	case s1 == "$left" && s2 == "$right":
		return n1, n2, pos, nil
	case s1 == "$right" && s2 == "$left":
		return n2, n1, pos, nil
	}
	return "", "", pos, errorf(pos, "join condition must compare $left.Column with $right.Column")
}

func (p *parser) unionArgs(pos Pos) (*unionOp, error) {
	op := &unionOp{pos: pos, kind: "outer"}
	for p.peek().kind == tIdent && p.peekAt(1).text == "=" && p.peekAt(1).kind == tPunct {
		key := p.next()
		p.next()
		val, vpos, err := p.name()
		if err != nil {
			return nil, err
		}
		switch key.text {
		case "withsource":
			op.withSource = val
		case "kind":
			if val != "inner" && val != "outer" {
				return nil, errorf(vpos, "unsupported union kind '%s'", val)
			}
			op.kind = val
		case "isfuzzy":
			op.isFuzzy = val == "true"
		default:
			return nil, errorf(key.pos, "unsupported union parameter '%s'", key.text)
		}
	}
	for {
		t, name, err := p.operand()
		if err != nil {
			return nil, err
		}
		op.tables = append(op.tables, t)
		op.names = append(op.names, name)
		if !p.acceptPunct(",") {
			return op, nil
		}
	}
}

func (p *parser) sortKeys() ([]sortKey, error) {
	var keys []sortKey
	for {
		k, err := p.sortKey()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		if !p.acceptPunct(",") {
			return keys, nil
		}
	}
}

// sortKey parses expr [asc|desc] [nulls first|last]; Kusto sorts descending
// by default, with nulls last when descending and first when ascending.
func (p *parser) sortKey() (sortKey, error) {
	x, err := p.expr()
	if err != nil {
		return sortKey{}, err
	}
	k := sortKey{x: x}
	if p.acceptWord("asc") {
		k.asc = true
	} else {
		p.acceptWord("desc")
	}
	k.nullsFirst = k.asc
	if p.acceptWord("nulls") {
		switch {
		case p.acceptWord("first"):
			k.nullsFirst = true
		case p.acceptWord("last"):
			k.nullsFirst = false
		default:
			return k, p.unexpected("'first' or 'last'")
		}
	}
	return k, nil
}

func (p *parser) top(pos Pos) (operator, error) {
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expectWord("by"); err != nil {
		return nil, err
	}
	k, err := p.sortKey()
	if err != nil {
		return nil, err
	}
	if p.isPunct(",") {
		return nil, errorf(p.peek().pos, "unsupported: top with several sort keys")
	}
	return &topOp{pos: pos, n: n, key: k}, nil
}

func (p *parser) mvExpand(pos Pos) (operator, error) {
	op := &mvExpandOp{pos: pos}
	for p.peek().kind == tIdent && p.peekAt(1).text == "=" && p.peekAt(1).kind == tPunct {
		key := p.peek().text
		if key != "bagexpansion" && key != "kind" && key != "with_itemindex" {
			break
		}
		p.i += 2
		val, vpos, err := p.name()
		if err != nil {
			return nil, err
		}
		switch {
		case key == "with_itemindex":
			op.indexName = val
		case val == "array":
			op.bagArray = true
		case val != "bag":
			return nil, errorf(vpos, "unsupported mv-expand %s '%s'", key, val)
		}
	}
	for {
		a, err := p.assignment()
		if err != nil {
			return nil, err
		}
		typ := ""
		if p.acceptWord("to") {
			if err := p.expectWord("typeof"); err != nil {
				return nil, err
			}
			if err := p.expectPunct("("); err != nil {
				return nil, err
			}
			name, tpos, err := p.name()
			if err != nil {
				return nil, err
			}
			ct, ok := canonicalType(name)
			if !ok {
				return nil, errorf(tpos, "unknown type '%s'", name)
			}
			typ = ct
			if err := p.expectPunct(")"); err != nil {
				return nil, err
			}
		}
		op.items = append(op.items, a)
		op.types = append(op.types, typ)
		if !p.acceptPunct(",") {
			break
		}
	}
	if p.acceptWord("limit") {
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		op.limit = n
	}
	return op, nil
}

func (p *parser) parseOperator(pos Pos, where bool) (operator, error) {
	op := &parseOp{pos: pos, kind: "simple", where: where}
	for p.peek().kind == tIdent && p.peekAt(1).text == "=" && (p.isWord("kind") || p.isWord("flags")) {
		key := p.next().text
		p.next()
		val, vpos, err := p.name()
		if err != nil {
			return nil, err
		}
		if key == "flags" {
			op.flags = val
			continue
		}
		if val != "simple" && val != "regex" && val != "relaxed" {
			return nil, errorf(vpos, "unsupported parse kind '%s'", val)
		}
		op.kind = val
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	op.x = x
	if err := p.expectWord("with"); err != nil {
		return nil, err
	}
	for !p.atEnd() {
		t := p.peek()
		switch {
		case t.kind == tPunct && t.text == "*":
			p.next()
			op.parts = append(op.parts, parsePart{star: true, pos: t.pos})
		case t.kind == tString:
			s := ""
			for p.peek().kind == tString {
				s += p.next().text
			}
			op.parts = append(op.parts, parsePart{isLit: true, literal: s, pos: t.pos})
		case t.kind == tPunct && t.text == ",":
			p.next()
		default:
			name, npos, err := p.name()
			if err != nil {
				return nil, err
			}
			part := parsePart{column: name, typ: "string", pos: npos}
			if p.acceptPunct(":") {
				tn, tpos, err := p.name()
				if err != nil {
					return nil, err
				}
				ct, ok := canonicalType(tn)
				if !ok {
					return nil, errorf(tpos, "unknown type '%s'", tn)
				}
				part.typ = ct
			}
			op.parts = append(op.parts, part)
		}
	}
	if len(op.parts) == 0 {
		return nil, p.unexpected("a parse pattern")
	}
	return op, nil
}
