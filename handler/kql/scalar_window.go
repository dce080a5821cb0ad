package kql

// Window functions: row_number, prev, next, row_cumsum, row_rank_dense and
// row_rank_min read the rows of a serialized row set around the current one
// (https://learn.microsoft.com/kusto/query/window-functions).
//
// Operators evaluate an expression once per row, in row order. A whole
// expression that calls window functions is wrapped (scope.compile) so that,
// before each row, its window state advances: the row index moves on and
// every window function records what it needs from the row (prev's values,
// the running sum, the restart predicate). The state is thus right even when
// a call sits in a branch that the row does not evaluate. next() looks ahead,
// so it needs the operator's input rows (scope.input).

type windowState struct {
	n     int64           // index of the current row, from 0
	hooks []func(r []any) // run for each row, before the expression
}

// windowOf returns the window state of the expression being compiled.
func (s *scope) windowOf() *windowState {
	if s.window == nil {
		s.window = &windowState{n: -1}
	}
	return s.window
}

func (w *windowState) wrap(c compiled) compiled {
	fn := c.fn
	c.fn = func(r []any) any {
		w.n++
		for _, h := range w.hooks {
			h(r)
		}
		return fn(r)
	}
	c.konst = false
	return c
}

func init() {
	register(map[string]*fnDef{
		"row_number":     {minArgs: 0, maxArgs: 2, build: buildRowNumber},
		"prev":           {minArgs: 1, maxArgs: 3, build: buildPrev},
		"next":           {minArgs: 1, maxArgs: 3, build: buildNext},
		"row_cumsum":     {minArgs: 1, maxArgs: 2, build: buildRowCumsum},
		"row_rank_dense": {minArgs: 1, maxArgs: 2, build: buildRowRank(true)},
		"row_rank_min":   {minArgs: 1, maxArgs: 2, build: buildRowRank(false)},
	})
}

// restartArg checks the optional bool restart argument at position i.
func restartArg(c *call, args []compiled, i int) (evalFn, error) {
	if len(args) <= i {
		return nil, nil
	}
	if !boolish(args[i].typ) {
		return nil, errorf(c.args[i].exprPos(), "%s(): the restart argument must be bool, got %s", c.name, args[i].typ)
	}
	return args[i].fn, nil
}

// row_number([start [, restart]]): start (default 1) on the first row and
// whenever restart is true, one more than the previous row otherwise.
func buildRowNumber(s *scope, c *call, args []compiled) (compiled, error) {
	start := int64(1)
	if len(args) > 0 {
		n, ok := toLong(args[0].fn(nil))
		if !args[0].konst || !ok || !isIntType(args[0].typ) {
			return compiled{}, errorf(c.args[0].exprPos(), "row_number() takes a constant long starting index")
		}
		start = n
	}
	restart, err := restartArg(c, args, 1)
	if err != nil {
		return compiled{}, err
	}
	w := s.windowOf()
	var cur int64
	w.hooks = append(w.hooks, func(r []any) {
		if w.n == 0 || restart != nil && truthy(restart(r)) {
			cur = start
		} else {
			cur++
		}
	})
	return compiled{typ: "long", fn: func([]any) any { return cur }}, nil
}

// offsetArgs reads the constant offset (default 1) and the default value of prev and next.
func offsetArgs(c *call, args []compiled) (int64, evalFn, string, error) {
	k := int64(1)
	if len(args) > 1 {
		n, ok := toLong(args[1].fn(nil))
		if !args[1].konst || !ok || n < 0 || !isIntType(args[1].typ) {
			return 0, nil, "", errorf(c.args[1].exprPos(), "%s() takes a constant non-negative offset", c.name)
		}
		k = n
	}
	def := constFn(nil)
	typ := args[0].typ
	if len(args) > 2 {
		typ = unifyType(args[0], args[2])
		def = coerce(typ, args[2])
	}
	return k, def, typ, nil
}

// prev(x [, offset [, default]]) is x on the row offset rows before, or the
// default (null) when there is none. Each row's x goes into a ring of the last
// offset+1 values.
func buildPrev(s *scope, c *call, args []compiled) (compiled, error) {
	k, def, typ, err := offsetArgs(c, args)
	if err != nil {
		return compiled{}, err
	}
	x := coerce(typ, args[0])
	if k == 0 {
		return compiled{typ: typ, fn: x}, nil
	}
	w := s.windowOf()
	ring := make([]any, k+1)
	size := k + 1
	w.hooks = append(w.hooks, func(r []any) { ring[w.n%size] = x(r) })
	return compiled{typ: typ, fn: func(r []any) any {
		if w.n < k {
			return def(r)
		}
		return ring[(w.n-k)%size]
	}}, nil
}

// next(x [, offset [, default]]) is x on the row offset rows after. It
// evaluates x on the operator's input rows, so x can use only their columns.
func buildNext(s *scope, c *call, args []compiled) (compiled, error) {
	if s.input == nil {
		return compiled{}, errorf(c.pos, "next() is not supported in this operator yet: use prev() over the rows sorted the other way")
	}
	in := s.input
	x, err := newScope(s.x, in.Columns).scalar(c.args[0])
	if err != nil {
		return compiled{}, errorf(c.args[0].exprPos(), "next(): %s (next() reads the input of the operator; columns added by the same operator cannot be used: compute them in an earlier one)", errMsg(err))
	}
	args[0] = x
	k, def, typ, err := offsetArgs(c, args)
	if err != nil {
		return compiled{}, err
	}
	xf := coerce(typ, x)
	w := s.windowOf()
	return compiled{typ: typ, fn: func(r []any) any {
		i := w.n + k
		if i >= int64(len(in.Rows)) {
			return def(r)
		}
		return xf(in.Rows[i])
	}}, nil
}

func errMsg(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Msg
	}
	return err.Error()
}

// row_cumsum(term [, restart]): the running sum of term, back to 0 when
// restart is true.
func buildRowCumsum(s *scope, c *call, args []compiled) (compiled, error) {
	if !isNumericType(args[0].typ) && !dynamicLike(args[0].typ) {
		return compiled{}, errorf(c.args[0].exprPos(), "row_cumsum() sums numbers, got %s", args[0].typ)
	}
	restart, err := restartArg(c, args, 1)
	if err != nil {
		return compiled{}, err
	}
	typ := "long"
	if !isIntType(args[0].typ) {
		typ = "real"
	}
	term := args[0].fn
	w := s.windowOf()
	var sum any
	w.hooks = append(w.hooks, func(r []any) {
		if w.n == 0 || restart != nil && truthy(restart(r)) {
			sum = zeroOf(typ)
		}
		if v := term(r); v != nil {
			sum = arith("+", sum, v)
		}
	})
	return compiled{typ: typ, fn: func([]any) any { return sum }}, nil
}

func zeroOf(typ string) any {
	if typ == "long" {
		return int64(0)
	}
	return 0.0
}

// row_rank_dense(term [, restart]) counts the changes of term (from 1);
// row_rank_min(term [, restart]) is the row number (from 1) where the current
// value of term first appeared in the run of equal values.
func buildRowRank(dense bool) func(*scope, *call, []compiled) (compiled, error) {
	return func(s *scope, c *call, args []compiled) (compiled, error) {
		restart, err := restartArg(c, args, 1)
		if err != nil {
			return compiled{}, err
		}
		term := args[0].fn
		w := s.windowOf()
		var rank, rowNo int64
		var last any
		w.hooks = append(w.hooks, func(r []any) {
			v := term(r)
			if w.n == 0 || restart != nil && truthy(restart(r)) {
				rank, rowNo, last = 1, 1, v
				return
			}
			rowNo++
			if !sameValue(v, last) {
				if dense {
					rank++
				} else {
					rank = rowNo
				}
			}
			last = v
		})
		return compiled{typ: "long", fn: func([]any) any { return rank }}, nil
	}
}

// sameValue is equality for grouping: nulls are equal to each other.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return valuesEqual(a, b)
}
