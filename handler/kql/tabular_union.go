package kql

import "sort"

// union concatenates tables. kind=outer (the default) keeps every column,
// matching them by name; a name used with different types becomes one column
// per type, named Name_type, as in Kusto. kind=inner keeps the common columns.
// withsource=Col adds a first column naming each row's table.

func (x *exec) union(op *unionOp, input *Table) (*Table, error) {
	var tables []*Table
	var names []string
	if input != nil {
		tables = append(tables, input)
		names = append(names, "union_arg0")
	}
	for i, pl := range op.tables {
		name := op.names[i]
		if name != "" && containsStar(name) {
			for _, n := range x.matchTables(name) {
				t, err := x.table(n, pl.pos)
				if err != nil {
					return nil, err
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
			return nil, err
		}
		if name == "" {
			name = "union_arg" + itoa(len(tables))
		}
		tables = append(tables, t)
		names = append(names, name)
	}

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
	slot := map[[2]string]int{} // (name, type) -> output column
	if op.withSource != "" {
		cols = append(cols, Column{Name: op.withSource, Type: "string"})
	}
	for _, name := range order {
		if op.kind == "inner" && count[name] < len(tables) {
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
		}
	}
	out := &Table{Columns: cols}
	for ti, t := range tables {
		idx := make([]int, len(t.Columns))
		for i, c := range t.Columns {
			j, ok := slot[[2]string{c.Name, c.Type}]
			if !ok {
				j = -1
			}
			idx[i] = j
		}
		for _, r := range t.Rows {
			row := make([]any, len(cols))
			if op.withSource != "" {
				row[0] = names[ti]
			}
			for i, j := range idx {
				if j >= 0 {
					row[j] = r[i]
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
