package kql

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Evaluation of a query: the lets, the sources (tables, subqueries, union,
// datatable, print and range), and the pipeline, which hands each operator to
// the tabular_*.go file that runs it.

// exec is the state of one evaluation: the database, the clock and the lets.
type exec struct {
	ctx  context.Context
	db   Database
	opts Options
	now  time.Time
	lets map[string]*binding
}

// binding is the value of a let: a table (evaluated on first use) or a scalar.
type binding struct {
	stmt   *letStmt
	table  *Table
	scalar *compiled
	busy   bool
}

func (q *Query) run(ctx context.Context, db Database, opts Options) (*Table, error) {
	x := &exec{ctx: ctx, db: db, opts: opts, now: opts.Now, lets: map[string]*binding{}}
	if x.now.IsZero() {
		x.now = time.Now()
	}
	x.now = x.now.UTC()
	for _, st := range q.lets {
		b := &binding{stmt: st}
		if st.tab == nil {
			if id, ok := st.expr.(*ident); ok && x.isTable(id.name) {
				st = &letStmt{pos: st.pos, name: st.name, tab: &pipeline{pos: id.pos, source: &tableRef{pos: id.pos, name: id.name}}}
				b.stmt = st
			} else {
				c, err := newScope(x, nil).compile(st.expr)
				if err != nil {
					return nil, err
				}
				v := c.fn(nil)
				b.scalar = &compiled{fn: constFn(v), typ: c.typ, konst: true}
			}
		}
		x.lets[st.name] = b
	}
	t, err := x.pipeline(q.body)
	if err != nil {
		return nil, err
	}
	out := &Table{Name: "PrimaryResult", Columns: t.Columns, Rows: t.Rows}
	return out, nil
}

// isTable reports whether name denotes a table (a tabular let or a database table).
func (x *exec) isTable(name string) bool {
	if b, ok := x.lets[name]; ok {
		return b.scalar == nil
	}
	_, ok := x.db[name]
	return ok
}

// table resolves a name to a table: lets first, then the database.
func (x *exec) table(name string, pos Pos) (*Table, error) {
	if b, ok := x.lets[name]; ok {
		if b.scalar != nil {
			return nil, errorf(pos, "'%s' is a scalar, not a table", name)
		}
		if b.table == nil {
			if b.busy {
				return nil, errorf(pos, "let '%s' refers to itself", name)
			}
			b.busy = true
			t, err := x.pipeline(b.stmt.tab)
			b.busy = false
			if err != nil {
				return nil, err
			}
			b.table = t
		}
		return b.table, nil
	}
	t, ok := x.db[name]
	if !ok {
		return nil, errorf(pos, "unknown table '%s'", name)
	}
	for n, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return nil, errorf(pos, "table '%s': row %d has %d values for %d columns", name, n+1, len(r), len(t.Columns))
		}
	}
	return x.timeWindow(t), nil
}

// timeWindow hides the rows whose TimeGenerated is outside [From, To].
func (x *exec) timeWindow(t *Table) *Table {
	if x.opts.From.IsZero() && x.opts.To.IsZero() {
		return t
	}
	i := colIndex(t.Columns, "TimeGenerated")
	if i < 0 {
		return t
	}
	out := &Table{Name: t.Name, Columns: t.Columns}
	for _, r := range t.Rows {
		ts, ok := toDatetime(r[i])
		if !ok || !x.opts.From.IsZero() && ts.Before(x.opts.From) || !x.opts.To.IsZero() && ts.After(x.opts.To) {
			continue
		}
		out.Rows = append(out.Rows, r)
	}
	return out
}

// matchTables lists the database tables matching a union wildcard like Device*.
func (x *exec) matchTables(pattern string) []string {
	var names []string
	for name := range x.db {
		if wildcardMatch(pattern, name) {
			names = append(names, name)
		}
	}
	for name, b := range x.lets {
		if b.scalar == nil && wildcardMatch(pattern, name) {
			names = append(names, name)
		}
	}
	sortStrings(names)
	return names
}

// pipeline evaluates Source | op | op ...
func (x *exec) pipeline(pl *pipeline) (*Table, error) {
	t, err := x.source(pl.source)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(pl.ops); i++ {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		op := pl.ops[i]
		// Consecutive extends run as one, saving a copy of every row.
		if ext, ok := op.(*extendOp); ok {
			for i+1 < len(pl.ops) {
				next, ok := pl.ops[i+1].(*extendOp)
				if !ok {
					break
				}
				ext = &extendOp{pos: ext.pos, items: append(append([]assign(nil), ext.items...), next.items...)}
				i++
			}
			op = ext
		}
		if t, err = x.operator(op, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (x *exec) source(s source) (*Table, error) {
	switch s := s.(type) {
	case *tableRef:
		return x.table(s.name, s.pos)
	case *subquery:
		return x.pipeline(s.t)
	case *unionSrc:
		return x.union(s.op, nil)
	case *datatableSrc:
		return x.datatable(s)
	case *printSrc:
		return x.print(s)
	case *rangeSrc:
		return x.rangeTable(s)
	}
	return nil, errorf(s.srcPos(), "unsupported source")
}

func (x *exec) operator(op operator, t *Table) (*Table, error) {
	switch op := op.(type) {
	case *whereOp:
		return x.where(op, t)
	case *extendOp:
		return x.extend(op, t)
	case *projectOp:
		return x.project(op, t)
	case *projectAwayOp:
		return x.projectAway(op, t)
	case *projectRenameOp:
		return x.projectRename(op, t)
	case *summarizeOp:
		return x.summarize(op, t)
	case *joinOp:
		return x.join(op, t)
	case *unionOp:
		return x.union(op, t)
	case *sortOp:
		return x.sort(op, t)
	case *takeOp:
		return x.take(op, t)
	case *topOp:
		return x.top(op, t)
	case *distinctOp:
		return x.distinct(op, t)
	case *countOp:
		return &Table{Columns: []Column{{"Count", "long"}}, Rows: [][]any{{int64(len(t.Rows))}}}, nil
	case *mvExpandOp:
		return x.mvExpand(op, t)
	case *parseOp:
		return x.parse(op, t)
	case *getschemaOp:
		return getschema(t), nil
	case *serializeOp:
		if len(op.items) == 0 {
			return t, nil
		}
		return x.extend(&extendOp{pos: op.pos, items: op.items}, t)
	}
	return nil, errorf(op.opPos(), "unsupported operator")
}

func colIndex(cols []Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// wildcardMatch matches a name against a pattern where * stands for any text.
func wildcardMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(rest, parts[i])
		if j < 0 {
			return false
		}
		rest = rest[j+len(parts[i]):]
	}
	return strings.HasSuffix(rest, parts[len(parts)-1])
}

// The sources that build a table from the query text: datatable, print and range.

func (x *exec) datatable(src *datatableSrc) (*Table, error) {
	s := newScope(x, nil)
	out := &Table{Columns: src.cols}
	var row []any
	for i, e := range src.values {
		c, err := s.scalar(e)
		if err != nil {
			return nil, err
		}
		if !c.konst {
			return nil, errorf(e.exprPos(), "datatable values must be constants")
		}
		col := src.cols[i%len(src.cols)]
		v := c.fn(nil)
		if conv := convertTo(col.Type, v); v != nil && conv == nil || col.Type != "dynamic" && c.typ == "dynamic" && v != nil {
			return nil, errorf(e.exprPos(), "datatable value %s does not fit column %s:%s", toStr(v), col.Name, col.Type)
		} else if col.Type != "dynamic" {
			v = conv
		}
		row = append(row, v)
		if len(row) == len(src.cols) {
			out.Rows = append(out.Rows, row)
			row = nil
		}
	}
	return out, nil
}

func (x *exec) print(src *printSrc) (*Table, error) {
	s := newScope(x, nil)
	out := &Table{Rows: [][]any{{}}}
	for i, it := range src.items {
		c, err := s.scalar(it.x)
		if err != nil {
			return nil, err
		}
		name := it.name
		if name == "" {
			name = exprName(it.x)
		}
		if name == "" {
			name = fmt.Sprintf("print_%d", i)
		}
		out.Columns = append(out.Columns, Column{Name: name, Type: c.typ})
		out.Rows[0] = append(out.Rows[0], c.fn(nil))
	}
	uniqueNames(out.Columns)
	return out, nil
}

// rangeTable implements range x from a to b step s over numbers, datetimes and timespans.
func (x *exec) rangeTable(src *rangeSrc) (*Table, error) {
	s := newScope(x, nil)
	var vals [3]compiled
	for i, e := range []expr{src.from, src.to, src.step} {
		c, err := s.scalar(e)
		if err != nil {
			return nil, err
		}
		if !c.konst {
			return nil, errorf(e.exprPos(), "range bounds must be constants")
		}
		vals[i] = c
	}
	from, to, step := vals[0].fn(nil), vals[1].fn(nil), vals[2].fn(nil)
	out := &Table{Columns: []Column{{Name: src.name, Type: vals[0].typ}}}
	if isIntType(vals[0].typ) {
		out.Columns[0].Type = "long"
	}
	const maxRows = 10_000_000
	sign, ok := compareValues(step, arith("-", step, step))
	if !ok || sign == 0 {
		return nil, errorf(src.pos, "range step must be a non-zero number or timespan")
	}
	positive := sign > 0
	for v := from; ; v = arith("+", v, step) {
		c, ok := compareValues(v, to)
		if !ok || positive && c > 0 || !positive && c < 0 {
			break
		}
		if len(out.Rows) >= maxRows {
			return nil, errorf(src.pos, "range produces more than %d rows", maxRows)
		}
		if t, isTime := v.(time.Time); isTime {
			v = t.UTC()
		}
		out.Rows = append(out.Rows, []any{v})
	}
	return out, nil
}
