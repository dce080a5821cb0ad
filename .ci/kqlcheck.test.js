// Tests of kqlcheck.js (run: node --test .ci/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const { readHunt, stripFence, loadSchemas, checkHuntFile } = require('./kqlcheck.js');

const ROOT = path.resolve(__dirname, '..');
const CHECKER = path.join(__dirname, 'kqlcheck.js');
const CORRECTED = path.join(ROOT, 'handler', 'hunt', 'bundled', 'runcommand-mde.yaml');
const SEED = path.join(ROOT, 'handler', 'hunt', 'bundled', 'seed-runcommand-mde.yaml');
const HUNTS = path.join(ROOT, 'testdata', 'hunts');
const BUNDLED = path.join(ROOT, 'handler', 'hunt', 'bundled');
// Every bundled hunt but the seed, which is kept as it is upstream (and fails, see below).
const PACK = fs.readdirSync(BUNDLED).filter((f) => f.endsWith('.yaml') && f !== 'seed-runcommand-mde.yaml').sort();

const globals = loadSchemas(path.join(ROOT, 'testdata', 'schemas'));

function run(...args) {
  const r = spawnSync(process.execPath, [CHECKER, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

// A copy of a bundled hunt (default: the corrected one) with one edit, in a temporary directory.
function editedCopy(t, from, to, original = CORRECTED) {
  const text = fs.readFileSync(original, 'utf8');
  assert.ok(text.includes(from), `${path.basename(original)} no longer contains ${JSON.stringify(from)}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kqlcheck-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'edited.yaml');
  fs.writeFileSync(file, text.replace(from, to));
  return file;
}

test('the corrected hunt passes and returns the columns the pipeline reads', () => {
  const r = run(path.relative(ROOT, CORRECTED));
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /^ok {3}handler\/hunt\/bundled\/runcommand-mde\.yaml \(25 result columns\)$/m);

  const { problems, columns } = checkHuntFile(CORRECTED, globals);
  assert.deepEqual(problems, []);
  const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
  for (const [name, type] of Object.entries({
    TimeGenerated: 'datetime', StartTime: 'datetime', EndTime: 'datetime', CorrelationId: 'string', RunId: 'string',
    Caller: 'string', CallerIpAddress: 'string', SubscriptionId: 'string', ResourceGroup: 'string',
    VirtualMachineName: 'string', ResourceId: 'string', RunCommandName: 'string', OperationNameValue: 'string', ActivityStatus: 'string',
    DeviceName: 'string', DeviceId: 'string', PowershellFileName: 'string', PowershellFileSize: 'long',
    PowershellExecStart: 'datetime', PowershellExecEnd: 'datetime', PowershellCommandsInOrder: 'dynamic',
    PowershellScriptCommands: 'dynamic',
    CommandCount: 'long', ScriptFingerprintHash: 'string',
  })) {
    assert.equal(types[name], type, `column ${name}`);
  }
});

test('a misspelled column in the query fails, naming the column and its position', (t) => {
  const file = editedCopy(t, 'CallerIpAddress = take_anyif(CallerIpAddress,', 'CallerIpAddress = take_anyif(CallerIpAdress,');
  const r = run(file);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /query \d+:\d+: KS\d+: The name 'CallerIpAdress' does not refer to any known column/);
  assert.match(r.out, /^FAIL /m);
});

test('an entity mapping to a column the query does not return fails, naming it', (t) => {
  const file = editedCopy(t, 'columnName: VirtualMachineName', 'columnName: VirtualMachinName');
  const r = run(file);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /entityMappings: Host HostName maps column "VirtualMachinName", which the query does not return/);
});

test('a fingerprint column the query does not return fails', (t) => {
  const file = editedCopy(t, 'fingerprint: ScriptFingerprintHash', 'fingerprint: ScriptFingerprint');
  const r = run(file);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /fingerprint: column "ScriptFingerprint" is not a result column/);
});

test('the seed fails on AccountCustomEntity and IPCustomEntity, and on nothing else', () => {
  const r = run(path.relative(ROOT, SEED));
  assert.equal(r.status, 1, r.out);
  const { problems } = checkHuntFile(SEED, globals);
  assert.deepEqual(problems, [
    'entityMappings: Account FullName maps column "AccountCustomEntity", which the query does not return',
    'entityMappings: IP Address maps column "IPCustomEntity", which the query does not return',
  ]);
});

test('with no file, every bundled hunt is checked', () => {
  const r = run();
  assert.equal(r.status, 1, r.out); // the seed's documented failure
  assert.ok(PACK.length >= 4, `bundled: ${PACK}`);
  for (const f of PACK) assert.match(r.out, new RegExp(`^ok {3}handler/hunt/bundled/${f.replace('.', '\\.')} \\(\\d+ result columns\\)$`, 'm'), f);
  assert.match(r.out, /^FAIL handler\/hunt\/bundled\/seed-runcommand-mde\.yaml \(2 problems\)$/m);
});

test('every bundled hunt but the seed passes, with its entity, detail and fingerprint columns', () => {
  for (const f of PACK) {
    const { problems, columns, hunt } = checkHuntFile(path.join(BUNDLED, f), globals);
    assert.deepEqual(problems, [], f);
    const names = new Set(columns.map((c) => c.name));
    assert.ok(hunt.fingerprint && names.has(hunt.fingerprint), `${f}: fingerprint ${hunt.fingerprint}`);
    assert.ok(hunt.entities.length > 0 && hunt.entities.every((e) => names.has(e.column)), f);
    assert.ok(hunt.details.every((d) => names.has(d.column)) && hunt.override.every((o) => names.has(o.column)), f);
  }
  // The scheduled rules name their custom details and title columns; the checker reads them.
  const rule = checkHuntFile(path.join(BUNDLED, 'vm-serial-console-access.yaml'), globals).hunt;
  assert.deepEqual(rule.details, [{ key: 'Activity', column: 'Activity' }, { key: 'SerialPort', column: 'SerialPort' }]);
  assert.deepEqual(rule.override.filter((o) => o.key === 'alertDisplayNameFormat').map((o) => o.column), ['Activity', 'Target', 'Caller']);
});

test('a custom detail or a title placeholder naming a column the query does not return fails', (t) => {
  const rule = path.join(BUNDLED, 'vm-extension-unusual-caller.yaml');
  let r = run(editedCopy(t, '  Publisher: Publisher', '  Publisher: Publsher', rule));
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /customDetails: Publisher names column "Publsher", which the query does not return/);
  r = run(editedCopy(t, 'set on {{VirtualMachineName}} by', 'set on {{VirtualMachine}} by', rule));
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /alertDetailsOverride: alertDisplayNameFormat names column "VirtualMachine", which the query does not return/);
});

test('the seed query is read from its quoted string and its fence is stripped', () => {
  const h = readHunt(fs.readFileSync(SEED, 'utf8'), 'seed');
  assert.equal(h.id, '55fbc363-6cc9-4201-bd68-d980b612082b');
  assert.ok(h.query.startsWith('AzureActivity\n// Isolate run command actions\n| where OperationNameValue == "Microsoft.Compute/'), h.query.slice(0, 80));
  assert.ok(h.query.endsWith('| extend ScriptFingerprintHash = hash_sha256(tostring(PowershellScriptCommands))'));
  assert.ok(h.query.includes('extract(@"\\-File\\s(script[0-9]{1,9}\\.ps1)", 1, InitiatingProcessCommandLine)'));
  assert.ok(!h.query.includes('```'));
});

test('the test hunts in other YAML shapes pass; a non-hunt and broken YAML fail clearly', () => {
  for (const f of ['vm-extension-changes.yaml', 'powershell-download-cradle.yaml', 'kql-multiline-literal.yaml']) {
    assert.deepEqual(checkHuntFile(path.join(HUNTS, f), globals).problems, [], f);
  }
  assert.deepEqual(checkHuntFile(path.join(HUNTS, 'not-a-hunt.yaml'), globals).problems, ['not a hunting query: missing id, query']);
  assert.match(checkHuntFile(path.join(HUNTS, 'broken-syntax.yaml'), globals).problems[0], /unterminated double-quoted string/);
});

test('a KQL multi-line string literal inside a fenced query is kept', () => {
  const h = readHunt(fs.readFileSync(path.join(HUNTS, 'kql-multiline-literal.yaml'), 'utf8'), 'literal');
  assert.ok(h.query.startsWith('let Watched = split(```\nInvoke-Mimikatz\n'), h.query);
  assert.ok(h.query.endsWith('Note = ```\nmatched a watched command\n```'), h.query);
});

test('stripFence follows the Go loader on the shared cases', () => {
  const cases = JSON.parse(fs.readFileSync(path.join(HUNTS, 'stripfence-cases.json'), 'utf8'));
  assert.ok(cases.length > 0);
  for (const c of cases) assert.equal(stripFence(c.in), c.want, c.name);
});

test('YAML scalars: block, folded, quoted with escapes and folding', () => {
  const doc = [
    'id: "a\\u0062c"',
    'name: >-',
    '  one',
    '  two',
    '',
    '  three',
    'query: "T\\n| take 1 \\',
    '  | count',
    '',
    '  \\"x\\""',
    'fingerprint: F # a comment',
    "occurrence: 'it''s'",
  ].join('\n');
  const h = readHunt(doc, 'inline');
  assert.equal(h.id, 'abc');
  assert.equal(h.name, 'one two\nthree');
  assert.equal(h.query, 'T\n| take 1 | count\n"x"');
  assert.equal(h.fingerprint, 'F');
  assert.equal(h.occurrence, "it's");
  assert.throws(() => readHunt('id: a\nid: b\nname: n\nquery: q\n', 'dup'), /"id" already defined/);
  assert.throws(() => readHunt('- a\n- b\n', 'list'), /not a "key: value" line/);
});

