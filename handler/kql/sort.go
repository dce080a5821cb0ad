package kql

import "sort"

// order by / sort by and top. Keys are computed once per row, then rows are
// sorted stably. Defaults follow Kusto: descending; nulls last when
// descending and first when ascending.

func (x *exec) sort(op *sortOp, in *Table) (*Table, error) {
	rows, err := x.sortedRows(op.keys, in)
	if err != nil {
		return nil, err
	}
	return &Table{Columns: in.Columns, Rows: rows}, nil
}

func (x *exec) top(op *topOp, in *Table) (*Table, error) {
	n, err := x.constLong(op.n, "top")
	if err != nil {
		return nil, err
	}
	rows, err := x.sortedRows([]sortKey{op.key}, in)
	if err != nil {
		return nil, err
	}
	if n < int64(len(rows)) {
		rows = rows[:n]
	}
	return &Table{Columns: in.Columns, Rows: rows}, nil
}

func (x *exec) sortedRows(keys []sortKey, in *Table) ([][]any, error) {
	s := newScope(x, in.Columns)
	fns := make([]evalFn, len(keys))
	for i, k := range keys {
		c, err := s.scalar(k.x)
		if err != nil {
			return nil, err
		}
		fns[i] = c.fn
	}
	type keyed struct {
		keys []any
		row  []any
	}
	items := make([]keyed, len(in.Rows))
	flat := make([]any, len(in.Rows)*len(keys))
	for n, r := range in.Rows {
		kv := flat[n*len(keys) : (n+1)*len(keys)]
		for i, f := range fns {
			kv[i] = f(r)
		}
		items[n] = keyed{keys: kv, row: r}
	}
	sort.SliceStable(items, func(a, b int) bool {
		for i, k := range keys {
			c := compareSortKey(items[a].keys[i], items[b].keys[i], k)
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = it.row
	}
	return rows, nil
}

// compareSortKey orders two key values under one sort key's direction and null placement.
func compareSortKey(a, b any, k sortKey) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if k.nullsFirst {
			return -1
		}
		return 1
	case b == nil:
		if k.nullsFirst {
			return 1
		}
		return -1
	}
	c := sortCompare(a, b)
	if !k.asc {
		c = -c
	}
	return c
}
