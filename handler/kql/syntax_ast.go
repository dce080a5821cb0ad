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
	fn   *funcDef  // set for user-defined functions and views
}

// funcDef is a user-defined function: let f = (a:long, T:(x:string)) { ... },
// or a view: let V = view () { ... }. Its body is local lets and then one
// tabular or scalar expression.
type funcDef struct {
	pos    Pos
	name   string
	view   bool
	params []funcParam
	lets   []*letStmt
	tab    *pipeline // the body, when tabular
	expr   expr      // the body, when scalar (a bare name may denote a table)
}

// funcParam is one parameter: a scalar of type typ, or a table (tabular) with
// the columns it must have (none listed: T:(*)). def is the default value.
type funcParam struct {
	pos     Pos
	name    string
	typ     string
	tabular bool
	cols    []Column
	def     expr
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
	// externalSrc is externaldata (cols) [urls] with (props).
	externalSrc struct {
		pos   Pos
		cols  []Column
		urls  []string
		props map[string]string // lower-cased property names
	}
	// searchSrc is search [kind=...] [in (tables)] predicate, as a source.
	searchSrc struct {
		pos Pos
		op  *searchOp
	}
	// callSrc is a function called as a source: f(args), table("T").
	callSrc struct {
		pos  Pos
		name string
		args []expr
	}
)

func (s *tableRef) srcPos() Pos     { return s.pos }
func (s *subquery) srcPos() Pos     { return s.pos }
func (s *unionSrc) srcPos() Pos     { return s.pos }
func (s *datatableSrc) srcPos() Pos { return s.pos }
func (s *printSrc) srcPos() Pos     { return s.pos }
func (s *rangeSrc) srcPos() Pos     { return s.pos }
func (s *externalSrc) srcPos() Pos  { return s.pos }
func (s *searchSrc) srcPos() Pos    { return s.pos }
func (s *callSrc) srcPos() Pos      { return s.pos }

// assign is "Name = expr", "(A, B) = expr" or a bare expr (name derived from it).
type assign struct {
	name  string   // empty when not given
	names []string // tuple assignment: (A, B) = arg_max(...)
	x     expr
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
	// renderOp is accepted and ignored: charts are for a screen.
	renderOp struct{ pos Pos }
	// invokeOp calls a tabular function with the input as its first argument.
	invokeOp struct {
		pos  Pos
		name string
		args []expr
	}
	// mvApplyOp is mv-apply: mv-expand each row into a subtable, run the
	// subquery (ops over an implicit source) on it, union the results.
	mvApplyOp struct {
		pos    Pos
		expand *mvExpandOp
		ops    []operator
	}
	// makeSeriesOp is make-series aggs on Axis [from a] [to b] step s [by ...].
	makeSeriesOp struct {
		pos      Pos
		aggs     []assign
		defaults []expr // per aggregate; nil for the default 0
		axis     expr
		from, to expr // nil when absent
		step     expr
		by       []assign
		nonempty bool
		inRange  bool // on Axis in range(from, to, step): to inclusive, bins aligned as bin() aligns them
	}
	// topNestedOp is top-nested [N] of Expr [with others = X] by Agg [asc|desc], ...
	topNestedOp struct {
		pos    Pos
		levels []topNestedLevel
	}
	// evaluateOp is evaluate plugin(args) [: (schema)].
	evaluateOp struct {
		pos    Pos
		plugin string
		args   []expr
		named  map[string]expr // name=value arguments
		schema []Column        // nil when absent
		star   bool            // schema starts with *
	}
	// partitionOp is partition [hints] by Col (ops over an implicit source).
	partitionOp struct {
		pos Pos
		key expr
		ops []operator
	}
	sampleOp struct {
		pos Pos
		n   expr
	}
	// asOp binds the input to a name for the rest of the query.
	asOp struct {
		pos  Pos
		name string
	}
	// searchOp filters rows (and, without an input, reads tables); see tabular_search.go.
	searchOp struct {
		pos           Pos
		caseSensitive bool
		tables        []*pipeline // search in (...): nil means every table
		names         []string
		pred          expr
	}
)

// topNestedLevel is one clause of top-nested.
type topNestedLevel struct {
	pos     Pos
	n       expr // nil: all values
	name    string
	x       expr
	others  expr // nil without "with others"
	aggName string
	agg     expr
	asc     bool
}

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
func (o *renderOp) opPos() Pos        { return o.pos }
func (o *invokeOp) opPos() Pos        { return o.pos }
func (o *mvApplyOp) opPos() Pos       { return o.pos }
func (o *makeSeriesOp) opPos() Pos    { return o.pos }
func (o *topNestedOp) opPos() Pos     { return o.pos }
func (o *evaluateOp) opPos() Pos      { return o.pos }
func (o *partitionOp) opPos() Pos     { return o.pos }
func (o *sampleOp) opPos() Pos        { return o.pos }
func (o *asOp) opPos() Pos            { return o.pos }
func (o *searchOp) opPos() Pos        { return o.pos }

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
