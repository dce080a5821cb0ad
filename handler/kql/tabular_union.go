package kql

import "sort"

// union concatenates tables. kind=outer (the default) keeps every column,
// matching them by name; a name used with different types becomes one column
// per type, named Name_type, as in Kusto. kind=inner keeps the common columns.
// withsource=Col adds a first column naming each row's table. isfuzzy=true
// leaves out the legs that name a table or function that does not exist.
//
// A union over many tables (union *, search) can be very wide: the pipeline
// hands it the where filters that follow it, evaluated before a row is built,
// and the columns that the rest of the pipeline reads (see unionPlan).

// unionPlan is what the operators after a union let it skip.
type unionPlan struct {
	filters []expr          // predicates that every output row must satisfy
	keep    map[string]bool // the columns to output (besides withsource); nil: all
}

func (x *exec) union(op *unionOp, input *Table) (*Table, error) {
	return x.unionPlanned(op, input, unionPlan{})
}

// unionLegs evaluates the tables of a union and names them for withsource.
func (x *exec) unionLegs(op *unionOp, input *Table) ([]*Table, []string, error) {
	var tables []*Table
	var names []string
	if input != nil {
		tables = append(tables, input)
		names = append(names, "union_arg0")
	}
	var firstErr error
	for i, pl := range op.tables {
		name := op.names[i]
		if name != "" && containsStar(name) {
			for _, n := range x.matchTables(name) {
				t, err := x.wildcardTable(n, pl.pos)
				if err != nil {
					return nil, nil, err
				}
				tables = append(tables, t)
				names = append(names, n)
			}
			continue
		}
		if name != "" && op.isFuzzy && !x.isTable(name) {
			continue
		}
		t, err := x.pipeline(pl)
		if err != nil {
			if kerr, ok := err.(*Error); ok && kerr.unknownTable && op.isFuzzy {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			return nil, nil, err
		}
		if name == "" {
			name = "union_arg" + itoa(len(tables))
		}
		tables = append(tables, t)
		names = append(names, name)
	}
	if len(tables) == 0 && firstErr != nil {
		return nil, nil, firstErr
	}
	return tables, names, nil
}

func (x *exec) unionPlanned(op *unionOp, input *Table, plan unionPlan) (*Table, error) {
	tables, names, err := x.unionLegs(op, input)
	if err != nil {
		return nil, err
	}
	return x.concat(tables, names, op.withSource, op.kind == "inner", plan)
}

// concat is the union of tables: the column layout, then the rows.
func (x *exec) concat(tables []*Table, names []string, withSource string, inner bool, plan unionPlan) (*Table, error) {
	// Collect the types each column name appears with, in order of appearance.
	var order []string
	typesOf := map[string][]string{}
	count := map[string]int{}
	for _, t := range tables {
		for _, c := range t.Columns {
			if _, ok := typesOf[c.Name]; !ok {
				order = append(order, c.Name)
			}
			if !contains(typesOf[c.Name], c.Type) {
				typesOf[c.Name] = append(typesOf[c.Name], c.Type)
			}
			count[c.Name]++
		}
	}
	var cols []Column
	var origName []string       // each column's name before _type suffixes
	slot := map[[2]string]int{} // (name, type) -> column of the full layout
	if withSource != "" {
		cols = append(cols, Column{Name: withSource, Type: "string"})
		origName = append(origName, withSource)
	}
	for _, name := range order {
		if inner && count[name] < len(tables) {
			continue
		}
		types := typesOf[name]
		for _, typ := range types {
			colName := name
			if len(types) > 1 {
				colName = name + "_" + typ
			}
			slot[[2]string{name, typ}] = len(cols)
			cols = append(cols, Column{Name: colName, Type: typ})
			origName = append(origName, name)
		}
	}
	// The filters read the full layout, compiled for each table so that a
	// search term over every column looks only at the table's own columns.
	compilePreds := func(t *Table) ([]evalFn, error) {
		if len(plan.filters) == 0 {
			return nil, nil
		}
		present := make([]bool, len(cols))
		if withSource != "" {
			present[0] = true
		}
		for _, c := range t.Columns {
			if j, ok := slot[[2]string{c.Name, c.Type}]; ok {
				present[j] = true
			}
		}
		saved := x.present
		x.present = present
		defer func() { x.present = saved }()
		s := newScope(x, cols)
		var preds []evalFn
		for _, f := range plan.filters {
			c, err := s.scalar(f)
			if err != nil {
				return nil, err
			}
			if !boolish(c.typ) {
				return nil, errorf(f.exprPos(), "where needs a bool expression, got %s", c.typ)
			}
			preds = append(preds, c.fn)
		}
		return preds, nil
	}
	var outIdx []int // full-layout column of each output column, when pruning
	prune := plan.keep != nil
	outCols := cols
	if prune {
		outCols = nil
		for i, c := range cols {
			if i == 0 && withSource != "" || plan.keep[c.Name] || plan.keep[origName[i]] {
				outIdx = append(outIdx, i)
				outCols = append(outCols, c)
			}
		}
	}
	out := &Table{Columns: outCols}
	total := 0
	for _, t := range tables {
		total += len(t.Rows)
	}
	if len(plan.filters) == 0 {
		out.Rows = make([][]any, 0, total)
	}
	for ti, t := range tables {
		preds, err := compilePreds(t)
		if err != nil {
			return nil, err
		}
		idx := make([]int, len(t.Columns))
		for i, c := range t.Columns {
			j, ok := slot[[2]string{c.Name, c.Type}]
			if !ok {
				j = -1
			}
			idx[i] = j
		}
		var scratch []any
		if preds != nil || prune {
			scratch = make([]any, len(cols))
			if withSource != "" {
				scratch[0] = names[ti]
			}
		}
		var sl *slab
		if preds == nil {
			sl = newSlab(len(t.Rows), len(outCols))
		}
	rows:
		for n, r := range t.Rows {
			if n&4095 == 0 {
				if err := x.ctx.Err(); err != nil {
					return nil, err
				}
			}
			if scratch == nil {
				row := sl.row()
				if withSource != "" {
					row[0] = names[ti]
				}
				for i, j := range idx {
					if j >= 0 {
						row[j] = r[i]
					}
				}
				out.Rows = append(out.Rows, row)
				continue
			}
			for i, j := range idx {
				if j >= 0 {
					scratch[j] = r[i]
				}
			}
			for _, p := range preds {
				if !truthy(p(scratch)) {
					continue rows
				}
			}
			var row []any
			if sl != nil {
				row = sl.row()
			} else {
				row = make([]any, len(outCols))
			}
			if !prune {
				copy(row, scratch)
			} else {
				for k, j := range outIdx {
					row[k] = scratch[j]
				}
			}
			out.Rows = append(out.Rows, row)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortStrings(s []string) { sort.Strings(s) }
