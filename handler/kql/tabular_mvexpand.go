package kql

import "sort"

// mv-expand turns each element of a dynamic array (or each property of a bag)
// into its own row. Several expanded columns are zipped, shorter ones padded
// with nulls; a null value gives one row, an empty array none.

func (x *exec) mvExpand(op *mvExpandOp, in *Table) (*Table, error) {
	s := newScope(x, in.Columns)
	cols := append([]Column(nil), in.Columns...)
	targets := make([]int, len(op.items))
	fns := make([]evalFn, len(op.items))
	for i, it := range op.items {
		c, err := s.scalar(it.x)
		if err != nil {
			return nil, err
		}
		name := it.name
		if name == "" {
			name = columnNameOf(it.x)
		}
		if name == "" {
			return nil, errorf(it.x.exprPos(), "mv-expand of an expression needs a name: mv-expand Name = expr")
		}
		typ := op.types[i]
		if typ == "" {
			typ = "dynamic"
		}
		j := colIndex(cols, name)
		if j < 0 {
			j = len(cols)
			cols = append(cols, Column{Name: name})
		}
		cols[j].Type = typ
		targets[i], fns[i] = j, c.fn
	}
	if op.indexName != "" {
		cols = append(cols, Column{Name: op.indexName, Type: "long"})
	}
	limit := int64(1 << 31)
	if op.limit != nil {
		n, err := x.constLong(op.limit, "mv-expand limit")
		if err != nil {
			return nil, err
		}
		limit = n
	}
	out := &Table{Columns: cols}
	lists := make([][]any, len(fns))
	for _, r := range in.Rows {
		n := 0
		for i, f := range fns {
			lists[i] = elements(f(r), op.bagArray)
			n = max(n, len(lists[i]))
		}
		for k := 0; k < n && int64(k) < limit; k++ {
			row := make([]any, len(cols))
			copy(row, r)
			for i, list := range lists {
				var v any
				if k < len(list) {
					v = list[k]
				}
				if op.types[i] != "" {
					v = castTo(op.types[i], v)
				}
				row[targets[i]] = v
			}
			if op.indexName != "" {
				row[len(cols)-1] = int64(k)
			}
			out.Rows = append(out.Rows, row)
		}
	}
	return out, nil
}

// elements lists what one value expands to.
func elements(v any, bagAsArray bool) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]any, len(keys))
		for i, k := range keys {
			if bagAsArray {
				out[i] = []any{k, x[k]}
			} else {
				out[i] = map[string]any{k: x[k]}
			}
		}
		return out
	}
	return []any{v}
}
