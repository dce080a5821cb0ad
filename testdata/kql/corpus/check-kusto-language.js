#!/usr/bin/env node
// Checks the corpus queries with Microsoft's parser (Kusto.Language, the npm package that
// .ci/kqlcheck.js pins in .ci/node_modules) against the embedded table schemas, and prints
// MSOK or MSFAIL with the first errors for each file. A query it rejects is marked in its
// file with a "// kusto.language: rejects (...)" line, which corpus_test.go leaves out of
// the rate.
//
//   node testdata/kql/corpus/check-kusto-language.js [FILE.kql...]
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '..', '..', '..');
const ck = require(path.join(root, '.ci', 'kqlcheck.js'));
const globals = ck.loadSchemas(path.join(root, 'handler', 'logdir', 'schemas'));
const K = global.Kusto.Language;
let files = process.argv.slice(2);
if (files.length === 0) {
  files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.kql')).sort().map((f) => path.join(__dirname, f));
}
let failed = 0;
for (const f of files) {
  const q = fs.readFileSync(f, 'utf8');
  const diags = K.KustoCode.ParseAndAnalyze(q, globals).GetDiagnostics();
  const errs = [];
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    if (String(d.Severity) !== 'Error') continue;
    const before = q.slice(0, d.Start);
    errs.push(`${before.split('\n').length}:${d.Start - before.lastIndexOf('\n')} ${d.Code} ${d.Message}`);
  }
  if (errs.length) failed++;
  console.log((errs.length ? 'MSFAIL ' : 'MSOK   ') + path.basename(f) + (errs.length ? '\n    ' + errs.slice(0, 3).join('\n    ') : ''));
}
console.log(`${files.length - failed} of ${files.length} accepted`);
