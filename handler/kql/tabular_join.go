package kql

// join and lookup are hash joins: the right side is indexed by its key values,
// then the left side is scanned once. Null keys never match. Right columns
// whose names clash with left ones get a numeric suffix (Key1), as in Kusto.

func (x *exec) join(op *joinOp, left *Table) (*Table, error) {
	right, err := x.pipeline(op.right)
	if err != nil {
		return nil, err
	}
	lk := make([]int, len(op.leftKeys))
	rk := make([]int, len(op.rightKeys))
	for i := range op.leftKeys {
		if lk[i] = colIndex(left.Columns, op.leftKeys[i]); lk[i] < 0 {
			return nil, errorf(op.keyPos[i], "join: unknown column '%s' on the left side", op.leftKeys[i])
		}
		if rk[i] = colIndex(right.Columns, op.rightKeys[i]); rk[i] < 0 {
			return nil, errorf(op.keyPos[i], "join: unknown column '%s' on the right side", op.rightKeys[i])
		}
		lt, rt := left.Columns[lk[i]].Type, right.Columns[rk[i]].Type
		if !comparableTypes(lt, rt) {
			return nil, errorf(op.keyPos[i], "join: key '%s' is %s on the left and %s on the right", op.leftKeys[i], lt, rt)
		}
	}
	keyOf := func(r []any, idx []int, buf []byte) ([]byte, bool) {
		buf = buf[:0]
		for _, i := range idx {
			if r[i] == nil {
				return buf, false
			}
			buf = appendKey(buf, r[i])
		}
		return buf, true
	}

	// Output columns: left, then right (minus the keys for lookup).
	cols := append([]Column(nil), left.Columns...)
	rightOut := make([]int, 0, len(right.Columns))
	isRightKey := map[int]bool{}
	for _, i := range rk {
		isRightKey[i] = true
	}
	for i, c := range right.Columns {
		if op.lookup && isRightKey[i] {
			continue
		}
		rightOut = append(rightOut, i)
		cols = append(cols, c)
	}
	uniqueNames(cols)

	var buf []byte
	switch op.kind {
	case "rightsemi", "rightanti":
		leftKeys := map[string]bool{}
		for _, r := range left.Rows {
			var ok bool
			if buf, ok = keyOf(r, lk, buf); ok {
				leftKeys[string(buf)] = true
			}
		}
		out := &Table{Columns: right.Columns}
		for _, r := range right.Rows {
			var ok bool
			buf, ok = keyOf(r, rk, buf)
			if (ok && leftKeys[string(buf)]) == (op.kind == "rightsemi") {
				out.Rows = append(out.Rows, r)
			}
		}
		return out, nil
	}

	index := map[string][]int{}
	for n, r := range right.Rows {
		var ok bool
		if buf, ok = keyOf(r, rk, buf); ok {
			index[string(buf)] = append(index[string(buf)], n)
		}
	}
	out := &Table{Columns: cols}
	if op.kind == "leftsemi" || op.kind == "leftanti" {
		out.Columns = left.Columns
	}
	combine := func(l, r []any) []any {
		row := make([]any, 0, len(cols))
		if l == nil {
			row = append(row, make([]any, len(left.Columns))...)
		} else {
			row = append(row, l...)
		}
		for _, i := range rightOut {
			if r == nil {
				row = append(row, nil)
			} else {
				row = append(row, r[i])
			}
		}
		return row
	}
	matchedRight := make([]bool, len(right.Rows))
	seenLeft := map[string]bool{}
	for n, l := range left.Rows {
		if n&4095 == 0 {
			if err := x.ctx.Err(); err != nil {
				return nil, err
			}
		}
		var ok bool
		buf, ok = keyOf(l, lk, buf)
		var matches []int
		if ok {
			matches = index[string(buf)]
		}
		switch op.kind {
		case "innerunique":
			if !ok || seenLeft[string(buf)] {
				continue
			}
			seenLeft[string(buf)] = true
		case "leftsemi":
			if len(matches) > 0 {
				out.Rows = append(out.Rows, l)
			}
			continue
		case "leftanti":
			if len(matches) == 0 {
				out.Rows = append(out.Rows, l)
			}
			continue
		}
		for _, m := range matches {
			out.Rows = append(out.Rows, combine(l, right.Rows[m]))
			matchedRight[m] = true
		}
		if len(matches) == 0 && (op.kind == "leftouter" || op.kind == "fullouter") {
			out.Rows = append(out.Rows, combine(l, nil))
		}
	}
	if op.kind == "rightouter" || op.kind == "fullouter" {
		for m, r := range right.Rows {
			if !matchedRight[m] {
				out.Rows = append(out.Rows, combine(nil, r))
			}
		}
	}
	return out, nil
}
