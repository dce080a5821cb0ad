#!/usr/bin/env node
// kqlcheck: checks hunting-query YAMLs offline with Microsoft's own KQL parser (Kusto.Language,
// npm @kusto/language-service-next, pinned in .ci/package.json).
//
//   node .ci/kqlcheck.js [--schemas DIR] [FILE.yaml...]
//
// With no FILE, checks every bundled hunt (handler/hunt/bundled/*.yaml). For each hunt it reads the
// YAML `query` (block scalar or quoted string), strips a Markdown fence as the Go loader does,
// prepends the window the pipeline declares (let HuntStart/HuntEnd), analyses the query against
// the tables declared in DIR (default testdata/schemas: one FILE <Table>.txt, one `Column:type` a
// line), and fails on any error diagnostic, and on an entityMappings, customDetails,
// alertDetailsOverride (a {{Column}} placeholder or a ...ColumnName), `fingerprint` or `occurrence`
// column that is not a result column. Positions are line:column in the query text.
// Exit status: 0 all hunts pass, 1 a hunt has problems, 2 usage or I/O error.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BUNDLED = path.join(ROOT, 'handler', 'hunt', 'bundled');
const DEFAULT_SCHEMAS = path.join(ROOT, 'testdata', 'schemas');

// The declarations huntwatch puts before every hunt query (the values do not matter here).
const WINDOW_PRELUDE =
  'let HuntStart = datetime(2000-01-01T00:00:00Z);\nlet HuntEnd = datetime(2000-01-01T01:00:00Z);\n';

let kusto;
function kustoLanguage() {
  if (!kusto) {
    const dir = path.join(__dirname, 'node_modules', '@kusto', 'language-service-next');
    require(path.join(dir, 'bridge.js'));
    require(path.join(dir, 'Kusto.Language.Bridge.js'));
    kusto = global.Kusto.Language;
  }
  return kusto;
}

// ---- A small reader for the YAML that hunting queries use ----------------------------------------
// It reads the top-level mapping of the first document: scalars (plain, single- or double-quoted,
// literal or folded block) and, for nested blocks, their raw lines. That is all a hunt needs, and it
// keeps the checker free of npm dependencies beyond the parser itself.

class YamlError extends Error {}

function indentOf(line) {
  return line.length - line.trimStart().length;
}

function isBlankOrComment(line) {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

// Folds the lines of a multi-line flow scalar: a line break becomes a space, n+1 breaks (n empty
// lines) n newlines, and a break escaped with a backslash (double quotes only) nothing.
function foldFlowLines(parts, escaped = []) {
  let out = '';
  let breaks = 0;
  let joinRaw = false;
  parts.forEach((p, k) => {
    const last = k === parts.length - 1;
    let l = k > 0 ? p.replace(/^[ \t]+/, '') : p;
    if (!last && !escaped[k]) l = l.replace(/[ \t]+$/, '');
    if (k > 0 && !last && l === '') { breaks++; return; }
    if (k > 0) out += joinRaw ? '' : breaks > 0 ? '\n'.repeat(breaks) : ' ';
    out += l;
    breaks = 0;
    joinRaw = Boolean(escaped[k]);
  });
  return out;
}

const DOUBLE_ESCAPES = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

function unescapeDouble(s, where) {
  return s.replace(/\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (m, e) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (e in DOUBLE_ESCAPES) return DOUBLE_ESCAPES[e];
    throw new YamlError(`${where}: unknown escape \\${e} in a double-quoted string`);
  });
}

// Reads a quoted scalar that starts at lines[i][col]; returns {value, next} (next: first line after it).
function readQuoted(lines, i, col, where) {
  const q = lines[i][col];
  const parts = [];
  let text = lines[i].slice(col + 1);
  for (let j = i; ; ) {
    let k = 0;
    let end = -1;
    while (k < text.length) {
      if (q === '"' && text[k] === '\\') { k += 2; continue; }
      if (text[k] === q) {
        if (q === "'" && text[k + 1] === "'") { k += 2; continue; }
        end = k;
        break;
      }
      k++;
    }
    if (end >= 0) {
      parts.push(text.slice(0, end));
      const after = text.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) {
        throw new YamlError(`${where}: unexpected text after a quoted scalar on line ${j + 1}`);
      }
      let value;
      if (q === "'") {
        value = foldFlowLines(parts).replace(/''/g, "'");
      } else {
        const escaped = parts.map((p, n) => n < parts.length - 1 && /(^|[^\\])(\\\\)*\\$/.test(p));
        value = unescapeDouble(foldFlowLines(parts.map((p, n) => (escaped[n] ? p.slice(0, -1) : p)), escaped), where);
      }
      return { value, next: j + 1 };
    }
    parts.push(text);
    j++;
    if (j >= lines.length || /^(---|\.\.\.)(\s|$)/.test(lines[j])) {
      throw new YamlError(`${where}: unterminated ${q === '"' ? 'double' : 'single'}-quoted string from line ${i + 1}`);
    }
    text = lines[j];
  }
}

// Reads a block scalar whose header (| or >, chomping, indentation) is on line i.
function readBlock(lines, i, header, where) {
  const m = header.match(/^([|>])([1-9]?)([+-]?)([1-9]?)\s*(#.*)?$/);
  if (!m) throw new YamlError(`${where}: bad block scalar header "${header}" on line ${i + 1}`);
  const style = m[1];
  const chomp = m[3];
  let indent = Number(m[2] || m[4] || 0);
  let j = i + 1;
  const body = [];
  for (; j < lines.length; j++) {
    const l = lines[j];
    if (l.trim() === '') { body.push(''); continue; }
    if (indent === 0) indent = indentOf(l);
    if (indent === 0 || indentOf(l) < indent) break;
    body.push(l.slice(indent));
  }
  let trailing = 0;
  while (body.length > 0 && body[body.length - 1] === '') { body.pop(); trailing++; }
  let text;
  if (style === '|') {
    text = body.join('\n');
  } else {
    // Folded: a break between two lines that do not start with a space becomes a space; empty
    // lines and the breaks around more-indented lines stay.
    text = '';
    const normal = (s) => !/^[ \t]/.test(s);
    let prev = null;
    let empties = 0;
    for (const l of body) {
      if (l === '') { empties++; continue; }
      if (prev === null) text += '\n'.repeat(empties);
      else if (normal(prev) && normal(l)) text += empties > 0 ? '\n'.repeat(empties) : ' ';
      else text += '\n'.repeat(empties + 1);
      text += l;
      prev = l;
      empties = 0;
    }
  }
  if (body.length > 0) {
    if (chomp === '') text += '\n';
    else if (chomp === '+') text += '\n'.repeat(trailing + 1);
  }
  return { value: text, next: j };
}

// parseTopLevel returns a Map of top-level key -> {value: string|null, block: string[]}.
function parseTopLevel(text, where) {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out = new Map();
  let i = 0;
  while (i < lines.length && isBlankOrComment(lines[i])) i++;
  if (i < lines.length && /^---(\s|$)/.test(lines[i])) {
    if (lines[i].slice(3).trim() !== '' && !lines[i].slice(3).trim().startsWith('#')) {
      throw new YamlError(`${where}: content on the document start line is not supported`);
    }
    i++;
  }
  while (i < lines.length) {
    const line = lines[i];
    if (/^(---|\.\.\.)(\s|$)/.test(line)) break; // the end of the first document
    if (isBlankOrComment(line)) { i++; continue; }
    if (indentOf(line) > 0) throw new YamlError(`${where}: line ${i + 1}: unexpected indentation`);
    const m = line.match(/^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#'"\-?:,\[\]{}&*!|>%@`][^#]*?|-[^\s#][^#]*?))[ \t]*:(?:[ \t]+(.*))?$/);
    if (!m) {
      throw new YamlError(`${where}: line ${i + 1}: not a "key: value" line of a YAML mapping`);
    }
    const key = m[1] !== undefined ? unescapeDouble(m[1], where) : m[2] !== undefined ? m[2].replace(/''/g, "'") : m[3];
    if (out.has(key)) throw new YamlError(`${where}: line ${i + 1}: mapping key "${key}" already defined`);
    const rest = (m[4] || '').trim();
    const restCol = line.length - (m[4] || '').trimStart().length;
    if (rest === '' || rest.startsWith('#')) {
      const block = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j];
        if (/^(---|\.\.\.)(\s|$)/.test(l)) break;
        if (l.trim() !== '' && indentOf(l) === 0 && !l.startsWith('- ') && l !== '-' && !l.startsWith('#')) break;
        block.push(l);
      }
      out.set(key, { value: block.some((l) => !isBlankOrComment(l)) ? null : '', block });
      i = j;
    } else if (rest[0] === '|' || rest[0] === '>') {
      const r = readBlock(lines, i, rest, where);
      out.set(key, { value: r.value, block: [] });
      i = r.next;
    } else if (rest[0] === '"' || rest[0] === "'") {
      const r = readQuoted(lines, i, restCol, where);
      out.set(key, { value: r.value, block: [] });
      i = r.next;
    } else if (rest[0] === '[' || rest[0] === '{') {
      out.set(key, { value: null, block: [rest] }); // a flow collection: not a scalar
      i++;
    } else {
      const parts = [rest.replace(/\s+#.*$/, '')];
      let j = i + 1;
      while (j < lines.length && lines[j].trim() !== '' && indentOf(lines[j]) > 0) {
        parts.push(lines[j].trim().replace(/\s+#.*$/, ''));
        j++;
      }
      out.set(key, { value: parts.join(' '), block: [] });
      i = j;
    }
  }
  return out;
}

function scalarOf(s) {
  s = s.trim();
  if (s.startsWith('"') || s.startsWith("'")) return readQuoted([s], 0, 0, 'entityMappings').value;
  return s.replace(/\s+#.*$/, '');
}

// Lists {entityType, identifier, column} from the entityMappings block lines.
function entityMappings(block) {
  const out = [];
  let entityType = '';
  let identifier = '';
  for (const line of block) {
    const t = line.trim().replace(/^-\s+/, '');
    let m;
    if ((m = t.match(/^entityType\s*:\s*(.+)$/))) entityType = scalarOf(m[1]);
    else if ((m = t.match(/^identifier\s*:\s*(.+)$/))) identifier = scalarOf(m[1]);
    else if ((m = t.match(/^columnName\s*:\s*(.+)$/))) out.push({ entityType, identifier, column: scalarOf(m[1]) });
  }
  return out;
}

// Lists {key, column} from a customDetails block: one `Key: Column` a line.
function customDetails(block) {
  const out = [];
  for (const line of block) {
    if (isBlankOrComment(line)) continue;
    const m = line.trim().match(/^([^:#]+?)\s*:\s*(.+)$/);
    if (m) out.push({ key: scalarOf(m[1]), column: scalarOf(m[2]) });
  }
  return out;
}

// Lists the columns an alertDetailsOverride block names: the {{Column}} placeholders of its
// formats, and the values of its ...ColumnName keys.
function overrideColumns(block) {
  const out = [];
  for (const line of block) {
    if (isBlankOrComment(line)) continue;
    const m = line.trim().match(/^([A-Za-z]+)\s*:\s*(.*)$/);
    if (!m) continue;
    if (/ColumnName$/.test(m[1])) {
      if (m[2].trim() !== '') out.push({ key: m[1], column: scalarOf(m[2]) });
      continue;
    }
    for (const p of m[2].matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) out.push({ key: m[1], column: p[1] });
  }
  return out;
}

// The same rule as StripFence in handler/hunt/hunt.go: a first line of ``` with an optional
// one-word language tag and a last ``` are a Markdown fence; anything else (such as a KQL
// multi-line string literal) is left alone.
function stripFence(q) {
  q = q.trim();
  if (!q.startsWith('```')) return q;
  const nl = q.indexOf('\n');
  if (nl < 0) return q;
  const tag = q.slice(3, nl).trim();
  const rest = q.slice(nl + 1);
  if (/[ \t`]/.test(tag) || !rest.endsWith('```')) return q;
  return rest.slice(0, -3).trim();
}

// readHunt parses a hunting-query YAML into {id, name, query, fingerprint, occurrence, entities}.
function readHunt(text, where) {
  const top = parseTopLevel(text, where);
  const scalar = (k) => {
    const e = top.get(k);
    if (!e) return '';
    if (e.value === null) throw new YamlError(`${where}: "${k}" must be a string`);
    return e.value;
  };
  const hunt = {
    id: scalar('id').trim(),
    name: scalar('name').trim(),
    query: stripFence(scalar('query')),
    fingerprint: scalar('fingerprint').trim(),
    occurrence: scalar('occurrence').trim(),
    entities: top.has('entityMappings') ? entityMappings(top.get('entityMappings').block) : [],
    details: top.has('customDetails') ? customDetails(top.get('customDetails').block) : [],
    override: top.has('alertDetailsOverride') ? overrideColumns(top.get('alertDetailsOverride').block) : [],
  };
  const missing = ['id', 'name', 'query'].filter((k) => hunt[k] === '');
  if (missing.length > 0) throw new YamlError(`${where}: not a hunting query: missing ${missing.join(', ')}`);
  return hunt;
}

// ---- Schemas and analysis --------------------------------------------------------------------

// loadSchemas reads DIR/<Table>.txt files (one `Column:type` a line; blank lines and # comments
// allowed) into Kusto table symbols.
function loadSchemas(dir) {
  const K = kustoLanguage();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  if (files.length === 0) throw new Error(`no <Table>.txt schema in ${dir}`);
  const tables = files.map((f) => {
    const name = path.basename(f, '.txt');
    const cols = [];
    fs.readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/).forEach((line, n) => {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return;
      if (!/^[A-Za-z_][A-Za-z0-9_]*:[a-z]+$/.test(t)) throw new Error(`${path.join(dir, f)}:${n + 1}: want Column:type, got "${t}"`);
      cols.push(t);
    });
    return new K.Symbols.TableSymbol.$ctor7(name, `(${cols.join(', ')})`, null);
  });
  return K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor('huntwatch', tables));
}

function lineCol(text, offset) {
  const before = text.slice(0, Math.max(0, offset));
  const nl = before.lastIndexOf('\n');
  return `${before.split('\n').length}:${offset - nl}`;
}

// analyze returns {problems: [string], columns: [{name, type}]} for one query text.
function analyze(query, globals) {
  const K = kustoLanguage();
  const text = WINDOW_PRELUDE + query;
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const problems = [];
  const diags = code.GetDiagnostics();
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    if (String(d.Severity) !== 'Error') continue;
    const off = d.Start - WINDOW_PRELUDE.length;
    const at = off >= 0 ? lineCol(query, off) : 'window prelude';
    const snippet = query.slice(Math.max(0, off), Math.max(0, off) + Math.min(d.Length, 60));
    problems.push(`query ${at}: ${d.Code}: ${d.Message}${snippet ? ` (at "${snippet}")` : ''}`);
  }
  const columns = [];
  const rt = code.ResultType;
  if (rt && rt.Columns) {
    for (let i = 0; i < rt.Columns.Count; i++) {
      const c = rt.Columns.getItem(i);
      columns.push({ name: c.Name, type: c.Type.Name });
    }
  }
  return { problems, columns };
}

// checkHuntFile returns the problems of one hunt file (empty: it passes) and its result columns.
function checkHuntFile(file, globals) {
  let hunt;
  try {
    hunt = readHunt(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    if (e instanceof YamlError) return { problems: [e.message.replace(`${file}: `, '')], columns: [] };
    if (e.code === 'ENOENT') return { problems: ['no such file'], columns: [] };
    throw e;
  }
  const { problems, columns } = analyze(hunt.query, globals);
  const names = new Set(columns.map((c) => c.name));
  if (columns.length === 0) problems.push('query has no tabular result');
  for (const e of hunt.entities) {
    if (!names.has(e.column)) {
      problems.push(`entityMappings: ${e.entityType} ${e.identifier} maps column "${e.column}", which the query does not return`);
    }
  }
  for (const d of hunt.details) {
    if (!names.has(d.column)) problems.push(`customDetails: ${d.key} names column "${d.column}", which the query does not return`);
  }
  for (const o of hunt.override) {
    if (!names.has(o.column)) problems.push(`alertDetailsOverride: ${o.key} names column "${o.column}", which the query does not return`);
  }
  for (const k of ['fingerprint', 'occurrence']) {
    if (hunt[k] && !names.has(hunt[k])) problems.push(`${k}: column "${hunt[k]}" is not a result column`);
  }
  return { problems, columns, hunt };
}

function bundledHunts() {
  return fs.readdirSync(BUNDLED).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(BUNDLED, f));
}

function main(argv) {
  let schemas = DEFAULT_SCHEMAS;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--schemas') {
      if (i + 1 >= argv.length) { console.error('kqlcheck: --schemas needs a directory'); return 2; }
      schemas = argv[++i];
    } else if (argv[i] === '-h' || argv[i] === '--help') {
      console.log('usage: node .ci/kqlcheck.js [--schemas DIR] [FILE.yaml...]');
      return 0;
    } else if (argv[i].startsWith('-')) {
      console.error(`kqlcheck: unknown flag ${argv[i]}`);
      return 2;
    } else {
      files.push(argv[i]);
    }
  }
  let globals;
  try {
    globals = loadSchemas(schemas);
  } catch (e) {
    console.error(`kqlcheck: schemas: ${e.message}`);
    return 2;
  }
  let failed = 0;
  for (const file of files.length > 0 ? files : bundledHunts()) {
    const shown = path.relative(process.cwd(), path.resolve(file)) || file;
    const { problems, columns } = checkHuntFile(file, globals);
    if (problems.length === 0) {
      console.log(`ok   ${shown} (${columns.length} result columns)`);
    } else {
      failed++;
      for (const p of problems) console.log(`${shown}: ${p}`);
      console.log(`FAIL ${shown} (${problems.length} problem${problems.length > 1 ? 's' : ''})`);
    }
  }
  return failed > 0 ? 1 : 0;
}

module.exports = { readHunt, stripFence, loadSchemas, analyze, checkHuntFile, YamlError, WINDOW_PRELUDE };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
