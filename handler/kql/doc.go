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
// Options.Now the clock behind now() and ago(); externaldata reads its URLs
// from local files (Options.ExternalData, Options.ExternalDataDir). Results
// are Tables with Kusto column types, and Format prints them for a terminal.
//
// # Layout
//
// The files are named by layer, so that each layer's files sort together. A
// query goes down the list: api.go takes it, the syntax layer parses it, the
// tabular layer runs its operators over tables, the scalar layer computes the
// expressions inside them, over values.
//
//   - api.go: the whole public API (Run, Parse, Options, Database, Table,
//     Column, Error, Pos, LoadDir, LoadSchemas, ParseSchema, ExternalDataFile,
//     Format): every exported name is declared there, and nowhere else.
//   - syntax_*.go, text to tree: syntax_lexer.go (tokens, string literal
//     forms, timespan literals, the Unicode spaces Kusto skips),
//     syntax_ast.go (the syntax tree), syntax_parse.go (a recursive-descent
//     parser: statements, lets and sources), syntax_parse_udf.go
//     (user-defined functions and views, named arguments, externaldata),
//     syntax_parse_search.go (search and its predicate language),
//     syntax_parse_ops.go (the tabular operators), syntax_parse_ops_more.go
//     (render, invoke, mv-apply, make-series, top-nested, evaluate,
//     partition), syntax_parse_expr.go (scalar expressions and literals).
//   - tabular_*.go, tables to tables: tabular_exec.go (lets and their
//     scopes, sources, the pipeline and its dispatch; datatable, print,
//     range), tabular_udf.go (calls of user-defined functions and views,
//     invoke, table()), tabular_basic.go (where, extend, project and its
//     variants, take, distinct, getschema, sort, top), tabular_summarize.go,
//     tabular_join.go (hash joins, lookup), tabular_union.go (union, and what
//     the operators after it let it skip), tabular_search.go (search, union
//     *), tabular_externaldata.go, tabular_mvexpand.go, tabular_apply.go
//     (mv-apply, partition, sample), tabular_series.go (make-series),
//     tabular_nested.go (top-nested), tabular_evaluate.go (bag_unpack,
//     pivot), tabular_parse.go (parse, parse-where).
//   - aggregate*.go: the aggregation functions summarize calls, one state per
//     group (aggregate_stats.go: stdev, variance, percentiles, and the
//     aggregates that name their own columns).
//   - scalar_*.go, expressions compiled into closures over a row, with static
//     result types: scalar_eval.go (compilation: names, calls, types),
//     scalar_operators.go (logic, comparisons, string operators, in,
//     between), scalar_arith.go (arithmetic), scalar_window.go (row_number,
//     prev, next...), and the functions, registered by name:
//     scalar_functions.go (conversions, conditionals), scalar_math.go,
//     scalar_strings.go, scalar_strings_parse.go, scalar_dynamic.go,
//     scalar_dynamic_sets.go, scalar_datetime.go, scalar_datetime_parts.go,
//     scalar_ip.go, scalar_xml.go, scalar_series.go (series analysis). Two
//     names no query can spell are registered by the tabular layer: the
//     call of a user-defined function and a search term (tabular_udf.go,
//     tabular_search.go).
//   - value*.go, the values themselves: value.go (conversions and text forms),
//     value_datetime.go (datetime and timespan text), value_dynamic.go
//     (dynamic values as JSON), value_compare.go (ordering and equality).
//   - load_*.go, files to tables: load_files.go (the kinds of file, records),
//     load_json.go (JSON arrays and NDJSON), load_csv.go, load_types.go
//     (column types from schemas or inference, value conversion).
//   - format.go: how Format lays out a table for a terminal.
//
// Tests follow the same names (tabular_join_test.go tests tabular_join.go);
// conformance_test.go and the tests of each operator check examples from the
// Kusto documentation, with the page's URL; seed_test.go and bench_test.go
// run the seed hunt, over synthetic logs that hunt_data_test.go builds and
// over testdata/kql/logs; bench_union_test.go times search and union * over
// every table. corpus_test.go runs the corpus of real hunting queries in
// testdata/kql/corpus (see below).
//
// # Supported subset
//
// Statements: let for scalars, tabular expressions, user-defined functions
// (let f = (a:long, b:string = "x", T:(Col:type), U:(*)) { lets; body },
// scalar or tabular, called with arguments by position or by name, without
// parentheses when they take none) and views (let V = view () { ... }); then
// one tabular expression. Sources: table names, (subqueries), datatable,
// print, range, union (withsource=, kind=, isfuzzy=, Name* wildcards, *),
// search, externaldata, materialize(), table("Name"), f(args).
// Operators: where, extend (and (a, b) = f() for functions with several
// results), project (renames, expressions), project-away, project-keep,
// project-reorder, project-rename, summarize ... by (with bin(), and
// (A, B) = arg_max(...)), join (innerunique by default, inner, leftouter,
// rightouter, fullouter, leftanti, leftsemi, rightanti, rightsemi; on Col,
// on $left.A == $right.B, several keys), lookup, union, search, order by /
// sort by (asc/desc, nulls first/last), take / limit, top N by, top-nested,
// distinct, count, mv-expand and mvexpand (to typeof(), with_itemindex,
// kind=array, limit), mv-apply, make-series (from/to/step or in range()),
// evaluate bag_unpack and pivot, partition by, invoke, sample, as, parse /
// parse-where (simple, relaxed, regex), getschema, serialize; render is
// accepted and ignored. hint.* parameters are accepted and ignored.
//
// Scalar operators: and, or, not(), arithmetic on numbers, datetimes and
// timespans, comparisons across int/long/real, == and != of a string with
// a bool, number, datetime or timespan (see Corpus below), == != =~ !~ in
// !in in~ !in~ has !has has_cs hasprefix hassuffix has_any has_all contains !contains
// contains_cs startswith endswith (and _cs / negated forms), matches regex,
// between, !between, * has "term" (any column), Col.[0] and Col.["key"].
// Aggregates: see aggregate.go and aggregate_stats.go. Scalar functions: see
// the register calls in the scalar_*.go files. Text may hold the Unicode
// spaces Kusto skips (no-break space, narrow no-break space, zero-width
// space, byte-order mark...).
//
// Semantics follow the Kusto documentation: has matches whole terms (maximal
// runs of letters and digits) case-insensitively; == on strings is
// case-sensitive and =~ is not; comparisons with null are null, which where
// treats as false; strings are never null (an absent string is ""); the
// default join deduplicates the left side by key, keeping the first row;
// right-side columns whose names clash get a numeric suffix (Key1); a
// conversion keeps the name of the column it converts (project
// tostring(Col) gives Col); datetimes print as 2024-01-01T00:00:00.0000000Z,
// timespans as 1.02:03:04, dynamic values as compact JSON.
//
// union * and search read every table of the database (every table of the
// logs folder) and every view. search "t" is where * has "t", its terms
// take * wildcards (hasprefix, hassuffix, contains, a regular expression),
// Col:"t" restricts a term to a column, kind=case_sensitive makes terms
// case-sensitive, and the output starts with $table. union isfuzzy=true
// leaves out the legs that name a table or function that does not exist. A
// union or search hands the where filters right after it to the legs, which
// test each row before it is built, and outputs only the columns that the
// rest of the pipeline reads when it ends in project, summarize, count or
// distinct; otherwise every column of every table is built (union * | take
// 10 over wide tables is the slow case).
//
// externaldata cannot download: each URL is read from a local file, mapped
// by Options.ExternalData or found in Options.ExternalDataDir (by convention
// <logs folder>/externaldata) under ExternalDataFile(url), the last segment
// of the URL's path (or a name made from a hash of the URL). A URL without a
// local copy fails the query with the URL and the file to provide. Formats:
// csv, tsv, psv, scsv, sohsv, txt, raw, json and multijson;
// ignoreFirstRecord is honoured, other properties are ignored.
//
// A function sees the lets declared before it, its parameters, and its own
// lets; a tabular function's arguments must be constants or tables, and a
// scalar function that evaluates a tabular expression cannot take arguments
// that vary by row (Kusto's restrictions). mv-apply runs its subquery on the
// expanded columns of each row and appends the row's other columns;
// make-series fills missing bins with the default (0 unless given);
// top-nested ranks descending unless asc, and its "others" row is not
// broken down by the clauses below it; bag_unpack adds one column per
// property, sorted by name, after the input's columns; pivot fills missing
// cells with 0 for count, countif, dcount and sum, null otherwise; sample
// picks rows with a fixed seed, so a query gives the same rows each run.
//
// Known differences: property bags keep no key order (they print with keys
// sorted); dcount is exact rather than an estimate; decimal is held as a
// float64; search's regular-expression terms (a*b) are case-insensitive
// unless kind=case_sensitive. Anything unsupported fails with an *Error
// naming the operator, plugin or function and its line:column, never a
// silent wrong answer. Not supported: find, facet, fork, scan, reduce,
// sample-distinct, top-hitters, parse-kv, evaluate plugins other than
// bag_unpack and pivot, partition with a { subquery } of its own,
// cross-cluster and cross-workspace references, and the statements set,
// declare, alias, pattern and restrict.
//
// # Corpus
//
// testdata/kql/corpus holds real queries (Azure/Azure-Sentinel analytics
// rules and hunting queries, microsoft/Microsoft-365-Defender-Hunting-Queries,
// and the community collection Bert-JanP/Hunting-Queries-Detection-Rules),
// each naming its source. corpus_test.go runs them over empty tables of the
// embedded schemas (handler/logdir/schemas) and reports the share that
// Kusto.Language accepts and the engine runs: all of them at the time of
// writing (the test's floor is 100%). What it took last, and where the
// engine may differ from Kusto:
//
//   - series_decompose_anomalies and series_fit_line (scalar_series.go).
//     series_fit_line reproduces its page's example. For
//     series_decompose_anomalies the pages give the method (series_decompose:
//     seasonal median per phase, then an avg/linefit/none trend; then
//     series_outliers' Tukey test on the residual; then the threshold) but
//     not every formula, so its scores and baseline may differ from Kusto's:
//     a score is the distance beyond the 10th/90th (ctukey) or 25th/75th
//     (tukey) percentile, linearly interpolated, over the distance between
//     the two; when they are equal (mostly-constant series, as sparse counts
//     are) over the mean absolute deviation instead; a flag is a score
//     beyond the threshold (default 1.5). Seasonality -1 stands in for
//     series_periods_detect, whose algorithm is not documented, with the
//     autocorrelation at each lag of 4 points to half the series (the
//     smallest period among multiples that score alike) kept when it reaches
//     the threshold (default 0.6); it finds the period of that page's
//     example. Only these two series functions exist; extend (a, b, c) =
//     f(...) spreads their results, and series_fit_line's numbers are real.
//   - == and != of a string with a bool, number, datetime or timespan
//     (IsLocalAdmin == "True", CrashProcessId == ProcessId over a string and
//     a long, DayNumberofWeek == "1.00:00:00"): Kusto.Language accepts any
//     two scalars there and the documentation does not say what Kusto does
//     at run time; the engine converts the string to the other operand's
//     type (as tobool(), todouble(), todatetime(), totimespan() would), and
//     a string that does not convert is null (so == a value is false). The
//     orderings (<, >...) of those types stay errors, as in Kusto.Language;
//     so do == and != of other mixed types it accepts (a bool with a number,
//     a datetime with a timespan), which no corpus query uses.
//   - ingestion_time() is null when the logs have no _IngestionTime column,
//     as the function's page says of tables without an IngestionTime policy.
//
// Five queries of the corpus are rejected by Kusto.Language itself (each
// says why in its file); they are run but not counted.
package kql
