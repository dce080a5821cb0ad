package kql

// The syntax tree. A query is a list of let statements and one tabular
// expression; a tabular expression is a source followed by piped operators;
// operators hold scalar expressions. Each node keeps its position so that
// evaluation errors can point back into the query text.

type letStmt struct {
	pos  Pos
	name string
	tab  *pipeline // set for tabular lets
	expr expr      // set for scalar lets (a bare name may still denote a table)
}

// pipeline is Source | op | op ...
type pipeline struct {
	pos    Pos
	source source
	ops    []operator
}

// source produces the first table of a pipeline.
type source interface{ srcPos() Pos }

// operator is one tabular operator after a pipe.
type operator interface{ opPos() Pos }

type (
	tableRef struct {
		pos  Pos
		name string
	}
	subquery struct { // ( tabular expression )
		pos Pos
		t   *pipeline
	}
	unionSrc struct {
		pos Pos
		op  *unionOp
	}
	datatableSrc struct {
		pos    Pos
		cols   []Column
		values []expr
	}
	printSrc struct {
		pos   Pos
		items []assign
	}
	rangeSrc struct {
		pos            Pos
		name           string
		from, to, step expr
	}
)

func (s *tableRef) srcPos() Pos     { return s.pos }
func (s *subquery) srcPos() Pos     { return s.pos }
func (s *unionSrc) srcPos() Pos     { return s.pos }
func (s *datatableSrc) srcPos() Pos { return s.pos }
func (s *printSrc) srcPos() Pos     { return s.pos }
func (s *rangeSrc) srcPos() Pos     { return s.pos }

// assign is "Name = expr" or a bare expr (name derived from it).
type assign struct {
	name string // empty when not given
	x    expr
}

// sortKey is one "expr [asc|desc] [nulls first|last]".
type sortKey struct {
	x          expr
	asc        bool
	nullsFirst bool
}

type (
	whereOp struct {
		pos  Pos
		pred expr
	}
	extendOp struct {
		pos   Pos
		items []assign
	}
	projectOp struct {
		pos   Pos
		items []assign
	}
	// projectAwayOp covers project-away, project-keep and project-reorder.
	projectAwayOp struct {
		pos      Pos
		kind     string   // "project-away", "project-keep", "project-reorder"
		patterns []string // names, possibly with * wildcards
	}
	projectRenameOp struct {
		pos      Pos
		newNames []string
		oldNames []string
	}
	summarizeOp struct {
		pos  Pos
		aggs []assign
		by   []assign
	}
	joinOp struct {
		pos       Pos
		kind      string
		right     *pipeline
		leftKeys  []string
		rightKeys []string
		keyPos    []Pos
		lookup    bool
	}
	unionOp struct {
		pos        Pos
		withSource string
		kind       string // "outer" (default) or "inner"
		isFuzzy    bool
		tables     []*pipeline
		names      []string // display name of each table, for withsource
	}
	sortOp struct {
		pos  Pos
		keys []sortKey
	}
	takeOp struct {
		pos Pos
		n   expr
	}
	topOp struct {
		pos Pos
		n   expr
		key sortKey
	}
	distinctOp struct {
		pos   Pos
		items []assign // empty means *
	}
	countOp    struct{ pos Pos }
	mvExpandOp struct {
		pos       Pos
		bagArray  bool
		indexName string
		items     []assign
		types     []string // "" when no "to typeof(...)"
		limit     expr
	}
	parseOp struct {
		pos   Pos
		kind  string // simple, regex, relaxed
		flags string
		where bool // parse-where
		x     expr
		parts []parsePart
	}
	getschemaOp struct{ pos Pos }
	serializeOp struct {
		pos   Pos
		items []assign
	}
)

// parsePart is one element of a parse pattern: "*", a literal, or a column.
type parsePart struct {
	star    bool
	literal string
	isLit   bool
	column  string
	typ     string
	pos     Pos
}

func (o *whereOp) opPos() Pos         { return o.pos }
func (o *extendOp) opPos() Pos        { return o.pos }
func (o *projectOp) opPos() Pos       { return o.pos }
func (o *projectAwayOp) opPos() Pos   { return o.pos }
func (o *projectRenameOp) opPos() Pos { return o.pos }
func (o *summarizeOp) opPos() Pos     { return o.pos }
func (o *joinOp) opPos() Pos          { return o.pos }
func (o *unionOp) opPos() Pos         { return o.pos }
func (o *sortOp) opPos() Pos          { return o.pos }
func (o *takeOp) opPos() Pos          { return o.pos }
func (o *topOp) opPos() Pos           { return o.pos }
func (o *distinctOp) opPos() Pos      { return o.pos }
func (o *countOp) opPos() Pos         { return o.pos }
func (o *mvExpandOp) opPos() Pos      { return o.pos }
func (o *parseOp) opPos() Pos         { return o.pos }
func (o *getschemaOp) opPos() Pos     { return o.pos }
func (o *serializeOp) opPos() Pos     { return o.pos }

// expr is a scalar expression.
type expr interface{ exprPos() Pos }

type (
	literal struct {
		pos Pos
		val any
		typ string
	}
	ident struct { // a column, a let name, or $left/$right in join conditions
		pos  Pos
		name string
	}
	binary struct {
		pos  Pos
		op   string // + - * / % == != < <= > >= =~ !~ and or has contains ... matches regex
		l, r expr
	}
	unary struct {
		pos Pos
		op  string // "-" or "+"
		x   expr
	}
	call struct {
		pos  Pos
		name string
		args []expr
	}
	member struct { // x.name or x["name"]
		pos  Pos
		x    expr
		name string
	}
	index struct { // x[i]
		pos Pos
		x   expr
		idx expr
	}
	inList struct { // in, !in, in~, !in~, has_any, has_all
		pos  Pos
		op   string
		x    expr
		list []expr
	}
	between struct {
		pos    Pos
		neg    bool
		x      expr
		lo, hi expr
	}
	star    struct{ pos Pos }
	typeRef struct { // typeof(string)
		pos Pos
		typ string
	}
	tabularExpr struct { // a tabular expression in scalar position: toscalar(T | ...), x in (T | ...)
		pos Pos
		t   *pipeline
	}
)

func (e *literal) exprPos() Pos     { return e.pos }
func (e *ident) exprPos() Pos       { return e.pos }
func (e *binary) exprPos() Pos      { return e.pos }
func (e *unary) exprPos() Pos       { return e.pos }
func (e *call) exprPos() Pos        { return e.pos }
func (e *member) exprPos() Pos      { return e.pos }
func (e *index) exprPos() Pos       { return e.pos }
func (e *inList) exprPos() Pos      { return e.pos }
func (e *between) exprPos() Pos     { return e.pos }
func (e *star) exprPos() Pos        { return e.pos }
func (e *typeRef) exprPos() Pos     { return e.pos }
func (e *tabularExpr) exprPos() Pos { return e.pos }
