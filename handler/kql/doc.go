// Package kql is a small, embedded Kusto Query Language (KQL) engine: it runs
// Microsoft Sentinel hunting queries over in-memory tables, so that hunts can
// run and be tested without a Log Analytics workspace.
//
// # How it fits in huntwatch
//
// The hunt pipeline (hunt -> findings -> dedup -> notify) asks a source of rows
// to run each hunt's query. In production that source is Log Analytics. This
// package is the second source: LoadDir reads a folder of exported logs
// (<Table>.json, .ndjson, .jsonl or .csv, typed by table schemas that
// ParseSchema and LoadSchemas read; package logdir builds them in), and Run
// evaluates the hunt's query over it, with Options.From
// and Options.To playing the part of the workspace query timespan and
// Options.Now the clock behind now() and ago(). Results are Tables with Kusto
// column types, and Format prints them for a terminal.
//
// # Layout
//
// The files follow the language: lexer.go (tokens, string literal forms,
// timespan literals), ast.go and parser.go / parse_ops.go / parse_expr.go (the
// syntax tree and a recursive-descent parser), value.go, json.go and
// compare.go (values, conversions, Kusto text forms, ordering), eval_expr.go and operators.go (scalar expressions are
// compiled into closures over a row, with static result types), functions.go,
// strings.go, dynamic.go and datetime.go (scalar functions), aggregates.go and
// summarize.go (grouping by hashing), run.go (statements, lets, sources),
// ops_basic.go, sort.go, join.go (hash joins), union.go, mvexpand.go and
// parse_op.go (tabular operators), load.go and format.go.
//
// # Supported subset
//
// Statements: let for scalars and tabular expressions (not user-defined
// functions: let f = (a:string) {...} is rejected), one tabular expression.
// Sources: table names, (subqueries), datatable, print, range, union,
// materialize(). Operators: where, extend, project (renames, expressions),
// project-away, project-keep, project-reorder, project-rename, summarize ... by
// (with bin()), join (innerunique by default, inner, leftouter, rightouter,
// fullouter, leftanti, leftsemi, rightanti, rightsemi; on Col, on
// $left.A == $right.B, several keys), lookup, union (withsource=, kind=,
// isfuzzy=, wildcards), order by / sort by (asc/desc, nulls first/last), take /
// limit, top N by, distinct, count, mv-expand (to typeof(), with_itemindex,
// kind=array, limit), parse / parse-where (simple, relaxed, regex), getschema,
// serialize.
//
// Scalar operators: and, or, not(), arithmetic on numbers, datetimes and
// timespans, comparisons across int/long/real, == != =~ !~ in !in in~ !in~
// has !has has_cs hasprefix hassuffix has_any has_all contains !contains
// contains_cs startswith endswith (and _cs / negated forms), matches regex,
// between, !between. Aggregates: count countif dcount dcountif sum sumif avg
// avgif min max minif maxif make_list make_list_if make_list_with_nulls
// make_set make_set_if take_any take_anyif arg_max arg_min (with *). Scalar
// functions: see the register calls in functions.go, strings.go, dynamic.go
// and datetime.go.
//
// Semantics follow the Kusto documentation: has matches whole terms (maximal
// runs of letters and digits) case-insensitively; == on strings is
// case-sensitive and =~ is not; comparisons with null are null, which where
// treats as false; strings are never null (an absent string is ""); the
// default join deduplicates the left side by key, keeping the first row;
// right-side columns whose names clash get a numeric suffix (Key1); datetimes
// print as 2024-01-01T00:00:00.0000000Z, timespans as 1.02:03:04, dynamic
// values as compact JSON.
//
// Known differences: property bags keep no key order (they print with keys
// sorted); dcount is exact rather than an estimate; decimal is held as a
// float64; expressions over aggregates inside summarize (summarize
// round(avg(x), 2)) must be written as a later extend. Anything unsupported
// fails with an *Error naming the operator or function and its line:column,
// never a silent wrong answer.
package kql
