// The tarball smoke test: Baton installed the way a user installs it, once per
// OpenTelemetry line. `npm run smoke` builds the workspace, then runs this:
//
//   1. `pnpm pack` every publishable package and check what each tarball carries;
//   2. for each line, a fresh npm project in the system's temp directory (outside this
//      workspace) gets the tarballs plus the clients' npm `latest` versions, installed with
//      `npm install --strict-peer-deps`;
//   3. smoke/app is type-checked under strict TypeScript (exactOptionalPropertyTypes and
//      more) with NodeNext resolution, which also emits it, then with bundler resolution;
//   4. the app runs: a producer and a consumer over the real Redis and RabbitMQ (one trace,
//      correlated pino lines), then a CommonJS file that require()s every package.
//
// Each step prints what it did; a failed step prints the tool's own output. The last line
// counts the steps: "smoke: N passed, N failed, N skipped". Exit code 1 when any failed.
// `node smoke/run.mjs otel-1.10 --keep` runs one line and keeps its directory.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec, packWorkspace, writeProjectManifest } from '../scripts/tarballs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Everything a user of each line installs besides Baton; `latest` unless the line pins it.
const CLIENTS = {
  ioredis: 'latest',
  amqplib: 'latest',
  kafkajs: 'latest',
  pino: 'latest',
  typescript: 'latest',
  '@types/node': 'latest',
};
const LINES = [
  {
    name: 'otel-1.9',
    title: 'OpenTelemetry api 1.9 + SDK 2.x (@opentelemetry/sdk-trace-base)',
    dependencies: {
      '@opentelemetry/api': '~1.9.0',
      '@opentelemetry/sdk-trace-base': '^2',
      '@opentelemetry/context-async-hooks': '^2',
      // @baton/testing's peers, on this line.
      '@opentelemetry/sdk-trace': '^2.12',
      '@opentelemetry/sdk-metrics': '^2',
    },
    // One recording provider: SDK 2.x takes the exporter itself.
    sdk: `import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
export { InMemorySpanExporter };
export const createTracerProvider = (exporter: InMemorySpanExporter) =>
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
`,
  },
  {
    name: 'otel-1.10',
    title: 'OpenTelemetry api 1.10 + SDK 3.x (@opentelemetry/sdk-trace)',
    dependencies: {
      '@opentelemetry/api': '^1.10.0',
      '@opentelemetry/sdk-trace': '^3',
      '@opentelemetry/context-async-hooks': '^3',
      '@opentelemetry/sdk-metrics': '^3',
    },
    // SDK 3.x: the package is sdk-trace, the provider TracerProvider, and a processor
    // takes an options object.
    sdk: `import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
export { InMemorySpanExporter };
export const createTracerProvider = (exporter: InMemorySpanExporter) =>
  new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
`,
  },
];
// Files every tarball must carry, and files none may.
const REQUIRED = ['package.json', 'LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts'];
const FORBIDDEN = /(^|\/)(\.tsbuildinfo|node_modules\/|test\/)/;

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const wanted = args.filter((a) => !a.startsWith('--'));
const lines = wanted.length ? LINES.filter((l) => wanted.includes(l.name)) : LINES;
if (lines.length === 0) {
  console.error(
    `smoke: unknown line ${wanted.join(' ')}; use ${LINES.map((l) => l.name).join(', ')}`,
  );
  process.exit(2);
}

const results = []; // { line, step, status: 'ok' | 'FAILED' | 'skipped' }
const indent = (text) =>
  text
    .trimEnd()
    .split('\n')
    .filter((l) => l.trim() && !/A complete log of this run|^npm error\s*$/.test(l))
    .map((l) => `    ${l}`)
    .join('\n');

function record(line, step, status, detail = '') {
  results.push({ line, step, status });
  console.log(`smoke [${line}] ${step}: ${status}${detail ? `\n${indent(detail)}` : ''}`);
  return status === 'ok';
}

// 1. Pack.
const work = mkdtempSync(join(tmpdir(), 'baton-smoke-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const pack = packWorkspace(root, tarballs);
const otelDependencies = []; // "@baton/x -> @opentelemetry/y range": what must fit each line
for (const { name, file, files, shipped } of pack.packages) {
  const missing = REQUIRED.filter((f) => !files.includes(f));
  const forbidden = files.filter((f) => FORBIDDEN.test(f));
  for (const [dependency, range] of Object.entries(shipped.dependencies ?? {})) {
    if (dependency.startsWith('@opentelemetry/'))
      otelDependencies.push(`${name} -> ${dependency} ${range}`);
  }
  const unresolved = Object.entries({
    ...shipped.dependencies,
    ...shipped.peerDependencies,
    ...shipped.optionalDependencies,
  }).filter(([, range]) => /^(workspace|catalog):/.test(range));
  const problems = [
    ...missing.map((f) => `missing ${f}`),
    ...forbidden.map((f) => `should not ship ${f}`),
    ...unresolved.map(([name, range]) => `dependency ${name} is still "${range}"`),
  ];
  record(
    'pack',
    `${file} (${files.filter(Boolean).length} files)`,
    problems.length ? 'FAILED' : 'ok',
    problems.join('\n'),
  );
}
const packedAll = pack.ok;
if (!packedAll) record('pack', 'pnpm pack of every publishable package', 'FAILED', pack.output);

// 2-4. One fresh npm project per OpenTelemetry line.
const npmVersion = exec('npm', ['--version'], work).stdout.trim();
for (const line of packedAll ? lines : []) {
  console.log(`\n== ${line.title} (npm ${npmVersion}, Node ${process.versions.node}) ==`);
  const app = join(work, line.name);
  cpSync(join(root, 'smoke', 'app'), app, { recursive: true });
  writeFileSync(join(app, 'src', 'sdk.ts'), line.sdk);
  writeProjectManifest(app, `baton-smoke-${line.name}`, pack.packages);

  // As a user adds them: `npm install name@latest` saves the caret range of that version.
  const clients = Object.entries({ ...CLIENTS, ...line.dependencies }).map(([n, v]) => `${n}@${v}`);
  const install = exec(
    'npm',
    ['install', '--strict-peer-deps', '--no-audit', '--no-fund', '--loglevel=warn', ...clients],
    app,
  );
  if (!install.ok) {
    // npm names the first conflict only; these are all the OpenTelemetry packages that
    // Baton's tarballs pull in as dependencies (not peers), each of which must fit the line.
    const ours = otelDependencies.length ? otelDependencies.join('\n') : 'none';
    record(
      line.name,
      `npm install --strict-peer-deps (${install.seconds} s)`,
      'FAILED',
      `${install.output}\nBaton's own OpenTelemetry dependencies (not peers):\n${ours}`,
    );
    for (const step of [
      'type-check NodeNext',
      'type-check bundler',
      'run ESM app',
      'run CommonJS app',
    ]) {
      record(line.name, step, 'skipped', 'nothing installed');
    }
    continue;
  }
  const installed = JSON.parse(exec('npm', ['ls', '--depth=0', '--json'], app).stdout).dependencies;
  const versions = Object.keys({ ...CLIENTS, ...line.dependencies })
    .map((name) => `${name} ${installed?.[name]?.version ?? '?'}`)
    .join(', ');
  const tree = exec('npm', ['ls', '--all'], app);
  record(
    line.name,
    `npm install --strict-peer-deps (${install.seconds} s; npm ls ${tree.ok ? 'clean' : 'reports problems'})`,
    tree.ok ? 'ok' : 'FAILED',
    `${versions}${
      tree.ok
        ? ''
        : `\n${tree.output
            .split('\n')
            .filter((l) => /ERR|invalid|missing|extraneous|UNMET (?!OPTIONAL)/.test(l))
            .join('\n')}`
    }`,
  );

  const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const [step, config] of [
    [
      'type-check NodeNext (strict, exactOptionalPropertyTypes; emits out/)',
      'tsconfig.nodenext.json',
    ],
    ['type-check bundler resolution (strict, exactOptionalPropertyTypes)', 'tsconfig.bundler.json'],
  ]) {
    const check = exec(process.execPath, [tsc, '-p', config], app);
    record(line.name, step, check.ok ? 'ok' : 'FAILED', check.output);
  }
  // tsc emits even when it reports errors, so the app still runs and shows what works.
  for (const [step, file] of [
    ['run ESM app over Redis and RabbitMQ', 'out/app.js'],
    ['run CommonJS app (require, no SDK)', 'out/require.cjs'],
  ]) {
    const ran = exec(process.execPath, [file], app);
    record(line.name, `${step} (${ran.seconds} s)`, ran.ok ? 'ok' : 'FAILED', ran.output);
  }
}

// Summary.
console.log('\n== smoke summary ==');
for (const name of [...new Set(results.map((r) => r.line))]) {
  const failed = results.filter((r) => r.line === name && r.status === 'FAILED');
  const counts = ['ok', 'FAILED', 'skipped']
    .map((s) => `${results.filter((r) => r.line === name && r.status === s).length} ${s}`)
    .join(', ');
  console.log(
    `${name.padEnd(10)} ${counts}${failed.length ? `: ${failed.map((r) => r.step).join('; ')}` : ''}`,
  );
}
const count = (status) => results.filter((r) => r.status === status).length;
const failedAny = count('FAILED') > 0;
if (keep) console.log(`\nsmoke: the projects are kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
if (failedAny && !keep)
  console.log('\nsmoke: `npm run smoke -- --keep` keeps the projects to look into');
console.log(
  `\nsmoke: ${count('ok')} passed, ${count('FAILED')} failed, ${count('skipped')} skipped`,
);
process.exitCode = failedAny ? 1 : 0;
