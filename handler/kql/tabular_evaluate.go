package kql

import (
	"sort"
	"strings"
)

// evaluate runs a plugin. bag_unpack and pivot are supported; the others
// (autocluster, basket, ipv4_lookup, python...) fail with an error naming them.

func (x *exec) evaluate(op *evaluateOp, in *Table) (*Table, error) {
	switch op.plugin {
	case "bag_unpack":
		return x.bagUnpack(op, in)
	case "pivot":
		return x.pivot(op, in)
	}
	return nil, errorf(op.pos, "unsupported evaluate plugin '%s' (supported: bag_unpack, pivot)", op.plugin)
}

// namedArg returns a name=value argument (names are case-insensitive) or the
// positional argument i.
func (op *evaluateOp) namedArg(name string, i int) expr {
	for k, v := range op.named {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	if i < len(op.args) {
		return op.args[i]
	}
	return nil
}

func (x *exec) constArg(e expr, what string) (any, error) {
	c, err := newScope(x, nil).scalar(e)
	if err != nil {
		return nil, err
	}
	if !c.konst {
		return nil, errorf(e.exprPos(), "%s must be a constant", what)
	}
	return c.fn(nil), nil
}

// bagUnpack follows https://learn.microsoft.com/kusto/query/bag-unpack-plugin:
// the bag column is replaced by one column per top-level property (sorted by
// name, optionally prefixed), typed by its values when they all have one type
// and dynamic otherwise. A property named like an input column is an error,
// unless columnsConflict is replace_source or keep_source. With an output
// schema, the output has just those columns (and the input's, with *).
func (x *exec) bagUnpack(op *evaluateOp, in *Table) (*Table, error) {
	if len(op.args) == 0 {
		return nil, errorf(op.pos, "bag_unpack needs the column to unpack: bag_unpack(Column)")
	}
	id, ok := op.args[0].(*ident)
	if !ok || colIndex(in.Columns, id.name) < 0 {
		if ok {
			return nil, errorf(id.pos, "bag_unpack: unknown column '%s'", id.name)
		}
		return nil, errorf(op.args[0].exprPos(), "bag_unpack needs a column name")
	}
	src := colIndex(in.Columns, id.name)
	prefix, conflict := "", "error"
	ignored := map[string]bool{}
	if e := op.namedArg("OutputColumnPrefix", 1); e != nil {
		v, err := x.constArg(e, "bag_unpack's prefix")
		if err != nil {
			return nil, err
		}
		prefix = toStr(v)
	}
	if e := op.namedArg("columnsConflict", 2); e != nil {
		v, err := x.constArg(e, "bag_unpack's columnsConflict")
		if err != nil {
			return nil, err
		}
		conflict = toStr(v)
		if conflict != "error" && conflict != "replace_source" && conflict != "keep_source" {
			return nil, errorf(e.exprPos(), "bag_unpack: columnsConflict must be error, replace_source or keep_source, got '%s'", conflict)
		}
	}
	if e := op.namedArg("ignoredProperties", 3); e != nil {
		v, err := x.constArg(e, "bag_unpack's ignoredProperties")
		if err != nil {
			return nil, err
		}
		list, _ := v.([]any)
		for _, it := range list {
			ignored[toStr(it)] = true
		}
	}
	bagOf := func(r []any) map[string]any {
		switch v := r[src].(type) {
		case map[string]any:
			return v
		case string:
			if j, ok := parseJSON(v); ok {
				m, _ := j.(map[string]any)
				return m
			}
		}
		return nil
	}
	if op.schema != nil {
		var cols []Column
		var from []int // input column, or -1 for a property
		if op.star {
			for i, c := range in.Columns {
				if i != src {
					cols = append(cols, c)
					from = append(from, i)
				}
			}
		}
		for _, c := range op.schema {
			if j := colIndex(cols, c.Name); j >= 0 {
				cols[j].Type = c.Type
				from[j] = -1
				continue
			}
			cols = append(cols, c)
			from = append(from, -1)
		}
		out := &Table{Columns: cols, Rows: make([][]any, len(in.Rows))}
		for n, r := range in.Rows {
			bag := bagOf(r)
			row := make([]any, len(cols))
			for i, c := range cols {
				if from[i] >= 0 {
					row[i] = r[from[i]]
					continue
				}
				name := strings.TrimPrefix(c.Name, prefix)
				if v, ok := bag[name]; ok && !ignored[name] {
					row[i] = castTo(c.Type, v)
				} else if j := colIndex(in.Columns, c.Name); j >= 0 && j != src {
					row[i] = r[j]
				}
			}
			out.Rows[n] = row
		}
		return out, nil
	}
	// Without a schema the properties found make the columns.
	kinds := map[string]string{}
	for _, r := range in.Rows {
		for k, v := range bagOf(r) {
			if ignored[k] || v == nil {
				if _, seen := kinds[k]; !seen && !ignored[k] {
					kinds[k] = ""
				}
				continue
			}
			t := dynamicSlotType(v)
			switch prev, seen := kinds[k]; {
			case !seen || prev == "":
				kinds[k] = t
			case prev != t:
				kinds[k] = "dynamic"
			}
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var cols []Column
	var from []int
	for i, c := range in.Columns {
		if i != src {
			cols = append(cols, c)
			from = append(from, i)
		}
	}
	var props []string
	for _, k := range names {
		name := prefix + k
		typ := kinds[k]
		if typ == "" {
			typ = "dynamic"
		}
		if j := colIndex(cols, name); j >= 0 {
			switch conflict {
			case "replace_source":
				cols = append(cols[:j], cols[j+1:]...)
				from = append(from[:j], from[j+1:]...)
			case "keep_source":
				continue
			default:
				return nil, errorf(op.pos, "bag_unpack: property '%s' clashes with column '%s' (use a prefix, or columnsConflict='replace_source' or 'keep_source')", k, name)
			}
		}
		cols = append(cols, Column{Name: name, Type: typ})
		props = append(props, k)
	}
	nIn := len(from)
	out := &Table{Columns: cols, Rows: make([][]any, len(in.Rows))}
	for n, r := range in.Rows {
		bag := bagOf(r)
		row := make([]any, len(cols))
		for i, j := range from {
			row[i] = r[j]
		}
		for i, k := range props {
			v := bag[k]
			if cols[nIn+i].Type != "dynamic" {
				v = castTo(cols[nIn+i].Type, v)
			}
			row[nIn+i] = v
		}
		out.Rows[n] = row
	}
	return out, nil
}

// dynamicSlotType is the column type for a value inside a dynamic bag.
func dynamicSlotType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "long"
	case float64:
		return "real"
	case bool:
		return "bool"
	}
	return "dynamic"
}

// pivot follows https://learn.microsoft.com/kusto/query/pivot-plugin: one
// output column per distinct value of the pivot column (in order of first
// appearance), holding the aggregate (count() by default) of the rows with
// that value, grouped by the listed columns (by default every column but the
// pivot column and those the aggregate reads). A group without rows for a
// value gets 0 for count, countif, dcount and sum, and null otherwise.
func (x *exec) pivot(op *evaluateOp, in *Table) (*Table, error) {
	if len(op.args) == 0 {
		return nil, errorf(op.pos, "pivot needs the column to pivot: pivot(Column [, aggregation] [, columns...])")
	}
	pid, ok := op.args[0].(*ident)
	if !ok || colIndex(in.Columns, pid.name) < 0 {
		return nil, errorf(op.args[0].exprPos(), "pivot: the first argument must be a column of the input")
	}
	var agg expr = &call{pos: op.pos, name: "count"}
	rest := op.args[1:]
	if len(rest) > 0 {
		if c, ok := rest[0].(*call); ok {
			agg = c
			rest = rest[1:]
		}
	}
	var groups []assign
	if len(rest) > 0 {
		for _, e := range rest {
			id, ok := e.(*ident)
			if !ok {
				return nil, errorf(e.exprPos(), "pivot: want column names after the aggregation")
			}
			groups = append(groups, assign{x: id})
		}
	} else {
		used := map[string]bool{pid.name: true}
		collectNames(agg, used)
		for _, c := range in.Columns {
			if !used[c.Name] {
				groups = append(groups, assign{x: &ident{pos: op.pos, name: c.Name}})
			}
		}
	}
	by := append(append([]assign(nil), groups...), assign{name: "\x00pivot", x: pid})
	sum, err := x.summarize(&summarizeOp{pos: op.pos, aggs: []assign{{name: "\x00value", x: agg}}, by: by}, in)
	if err != nil {
		return nil, err
	}
	ng := len(groups)
	aggType := sum.Columns[ng+1].Type
	var zero any
	if c, ok := agg.(*call); ok && (c.name == "count" || c.name == "countif" || c.name == "dcount" || c.name == "sum" || c.name == "dcountif" || c.name == "sumif") {
		zero = convertTo(aggType, int64(0))
	}
	cols := append([]Column(nil), sum.Columns[:ng]...)
	valueCol := map[string]int{}
	rowOf := map[string]int{}
	var rows [][]any
	var buf []byte
	for _, r := range sum.Rows {
		name := toStr(r[ng])
		j, ok := valueCol[name]
		if !ok {
			j = len(cols)
			valueCol[name] = j
			cols = append(cols, Column{Name: name, Type: aggType})
		}
		buf = buf[:0]
		for _, v := range r[:ng] {
			buf = appendKey(buf, v)
		}
		i, ok := rowOf[string(buf)]
		if !ok {
			i = len(rows)
			rowOf[string(buf)] = i
			rows = append(rows, append([]any(nil), r[:ng]...))
		}
		for len(rows[i]) <= j {
			rows[i] = append(rows[i], zero)
		}
		rows[i][j] = r[ng+1]
	}
	for i := range rows {
		for len(rows[i]) < len(cols) {
			rows[i] = append(rows[i], zero)
		}
	}
	uniqueNames(cols)
	out := &Table{Columns: cols, Rows: rows}
	if op.schema == nil {
		return out, nil
	}
	shaped := &Table{Columns: op.schema, Rows: make([][]any, len(rows))}
	for n, r := range rows {
		row := make([]any, len(op.schema))
		for i, c := range op.schema {
			if j := colIndex(cols, c.Name); j >= 0 {
				row[i] = castTo(c.Type, r[j])
			} else if i >= ng {
				row[i] = zero
			}
		}
		shaped.Rows[n] = row
	}
	return shaped, nil
}
