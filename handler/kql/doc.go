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
// The files are named by layer, so that each layer's files sort together. A
// query goes down the list: api.go takes it, the syntax layer parses it, the
// tabular layer runs its operators over tables, the scalar layer computes the
// expressions inside them, over values.
//
//   - api.go: the whole public API (Run, Parse, Options, Database, Table,
//     Column, Error, Pos, LoadDir, LoadSchemas, ParseSchema, Format): every
//     exported name is declared there, and nowhere else.
//   - syntax_*.go, text to tree: syntax_lexer.go (tokens, string literal
//     forms, timespan literals), syntax_ast.go (the syntax tree),
//     syntax_parse.go (a recursive-descent parser: statements, lets and
//     sources), syntax_parse_ops.go (the tabular operators),
//     syntax_parse_expr.go (scalar expressions and literals).
//   - tabular_*.go, tables to tables: tabular_exec.go (lets, sources, the
//     pipeline and its dispatch; datatable, print, range),
//     tabular_basic.go (where, extend, project and its variants, take,
//     distinct, getschema, sort, top), tabular_summarize.go,
//     tabular_join.go (hash joins, lookup), tabular_union.go,
//     tabular_mvexpand.go, tabular_parse.go (parse, parse-where).
//   - aggregate.go: the aggregation functions summarize calls, one state per
//     group.
//   - scalar_*.go, expressions compiled into closures over a row, with static
//     result types: scalar_eval.go (compilation: names, calls, types),
//     scalar_operators.go (logic, comparisons, string operators, in,
//     between), scalar_arith.go (arithmetic), and the functions, registered
//     by name: scalar_functions.go (conversions, conditionals, math),
//     scalar_strings.go, scalar_dynamic.go, scalar_datetime.go.
//   - value*.go, the values themselves: value.go (conversions and text forms),
//     value_datetime.go (datetime and timespan text), value_dynamic.go
//     (dynamic values as JSON), value_compare.go (ordering and equality).
//   - load_*.go, files to tables: load_files.go (the kinds of file, records),
//     load_json.go (JSON arrays and NDJSON), load_csv.go, load_types.go
//     (column types from schemas or inference, value conversion).
//   - format.go: how Format lays out a table for a terminal.
//
// Tests follow the same names (tabular_join_test.go tests tabular_join.go);
// conformance_test.go checks examples from the Kusto documentation;
// seed_test.go and bench_test.go run the seed hunt, over synthetic logs that
// hunt_data_test.go builds and over testdata/kql/logs.
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
// functions: see the register calls in scalar_functions.go, scalar_strings.go,
// scalar_dynamic.go and scalar_datetime.go.
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
