package kql

import "strings"

// search (https://learn.microsoft.com/kusto/query/search-operator) is a union
// of the tables searched, with a first column $table naming each row's table,
// filtered by the search predicate: search "err" is where * has "err" over
// search in (T1, T2, A*) or, without "in" and without an input, over every
// table of the database (and every view). The terms of the predicate are
// calls of fnSearchTerm, compiled here against the columns of the union.

const fnSearchTerm = "\x00search"

func (x *exec) search(op *searchOp, input *Table) (*Table, error) {
	return x.searchPlanned(op, input, unionPlan{})
}

func (x *exec) searchPlanned(op *searchOp, input *Table, plan unionPlan) (*Table, error) {
	var tables []*Table
	var names []string
	switch {
	case input != nil:
		name := input.Name
		if name == "" {
			name = "union_arg0"
		}
		tables, names = []*Table{input}, []string{name}
	case op.tables != nil:
		var err error
		tables, names, err = x.unionLegs(&unionOp{pos: op.pos, kind: "outer", tables: op.tables, names: op.names}, nil)
		if err != nil {
			return nil, err
		}
	default:
		for _, n := range x.matchTables("*") {
			t, err := x.wildcardTable(n, op.pos)
			if err != nil {
				return nil, err
			}
			tables = append(tables, t)
			names = append(names, n)
		}
	}
	plan.filters = append([]expr{op.pred}, plan.filters...)
	return x.concat(tables, names, "$table", false, plan)
}

// buildSearchTerm compiles a term: col op term, or (col "") the term tested
// against every column, converted to text, any of which may match.
func buildSearchTerm(s *scope, c *call, args []compiled) (compiled, error) {
	col, _ := args[0].fn(nil).(string)
	op, _ := args[1].fn(nil).(string)
	term := c.args[2]
	if col != "" {
		if _, ok := s.index[col]; !ok {
			return compiled{}, errorf(c.pos, "search: unknown column '%s'", col)
		}
		return s.compile(&binary{pos: c.pos, op: op, l: &ident{pos: c.pos, name: col}, r: term})
	}
	lit, _ := term.(*literal)
	var tests []evalFn
	for i, column := range s.cols {
		// A term looks at the table's own columns: not $table, which search adds.
		if strings.HasPrefix(column.Name, hiddenPrefix) || column.Name == "$table" || s.x.present != nil && i < len(s.x.present) && !s.x.present[i] {
			continue
		}
		if lit != nil && !textCanMatch(column.Type, op, toStr(lit.val)) {
			continue
		}
		var l expr = &ident{pos: c.pos, name: column.Name}
		if column.Type != "string" {
			l = &call{pos: c.pos, name: "tostring", args: []expr{l}}
		}
		t, err := s.compile(&binary{pos: c.pos, op: op, l: l, r: term})
		if err != nil {
			return compiled{}, err
		}
		tests = append(tests, t.fn)
	}
	return compiled{typ: "bool", fn: func(r []any) any {
		for _, t := range tests {
			if truthy(t(r)) {
				return true
			}
		}
		return false
	}}, nil
}

// textAlphabets are the characters of the text forms of the types whose text
// is made of few characters: a term with another letter cannot match them.
var textAlphabets = map[string]string{
	"int": "0123456789-", "long": "0123456789-", "real": "0123456789.-+eEnaNIfity", "decimal": "0123456789.-+eE",
	"datetime": "0123456789-:.TZ", "timespan": "0123456789-:.", "bool": "truefalsTRUEFALS", "guid": "0123456789abcdefABCDEF-",
}

// textCanMatch reports whether a value of type typ, as text, can match term
// with the string operator op (false only when it surely cannot).
func textCanMatch(typ, op, term string) bool {
	alphabet, ok := textAlphabets[typ]
	if !ok || strings.Contains(op, "regex") {
		return true
	}
	for _, r := range term {
		if !strings.ContainsRune(alphabet, r) {
			return false
		}
	}
	return true
}

// planUnion takes, from the operators after a union or search source, the
// leading where filters and the columns that the rest of the pipeline reads.
func planUnion(ops []operator) (unionPlan, int) {
	var plan unionPlan
	n := 0
	for n < len(ops) {
		w, ok := ops[n].(*whereOp)
		if !ok {
			break
		}
		plan.filters = append(plan.filters, w.pred)
		n++
	}
	plan.keep = neededColumns(ops[n:])
	return plan, n
}

// neededColumns returns the names that ops can read, when they end with an
// operator that drops every other column (project, summarize, count...); nil
// when any column may be read or reach the output.
func neededColumns(ops []operator) map[string]bool {
	need := map[string]bool{}
	all := false
	add := func(es ...expr) {
		for _, e := range es {
			if e != nil && !collectNames(e, need) {
				all = true
			}
		}
	}
	addItems := func(items []assign) {
		for _, it := range items {
			add(it.x)
		}
	}
	for _, op := range ops {
		switch op := op.(type) {
		case *whereOp:
			add(op.pred)
		case *extendOp:
			addItems(op.items)
		case *sortOp:
			for _, k := range op.keys {
				add(k.x)
			}
		case *topOp:
			add(op.key.x)
		case *takeOp, *renderOp:
		case *projectOp:
			addItems(op.items)
			return result(need, all)
		case *summarizeOp:
			addItems(op.aggs)
			addItems(op.by)
			return result(need, all)
		case *countOp:
			return result(need, all)
		case *distinctOp:
			if len(op.items) == 0 {
				return nil
			}
			addItems(op.items)
			return result(need, all)
		default:
			return nil
		}
		if all {
			return nil
		}
	}
	return nil
}

func result(need map[string]bool, all bool) map[string]bool {
	if all {
		return nil
	}
	return need
}

// collectNames adds the names e reads to set; false when e may read any
// column (*, or a search term over every column).
func collectNames(e expr, set map[string]bool) bool {
	switch e := e.(type) {
	case *ident:
		set[e.name] = true
	case *binary:
		return collectNames(e.l, set) && collectNames(e.r, set)
	case *unary:
		return collectNames(e.x, set)
	case *call:
		if e.name == fnSearchTerm {
			if lit, ok := e.args[0].(*literal); ok && lit.val == "" {
				return false
			}
			if lit, ok := e.args[0].(*literal); ok {
				set[toStr(lit.val)] = true
			}
		}
		for _, a := range e.args {
			if !collectNames(a, set) {
				return false
			}
		}
	case *member:
		return collectNames(e.x, set)
	case *index:
		return collectNames(e.x, set) && collectNames(e.idx, set)
	case *inList:
		if !collectNames(e.x, set) {
			return false
		}
		for _, it := range e.list {
			if !collectNames(it, set) {
				return false
			}
		}
	case *between:
		return collectNames(e.x, set) && collectNames(e.lo, set) && collectNames(e.hi, set)
	case *star:
		return false
	}
	return true
}
