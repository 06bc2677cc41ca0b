#!/usr/bin/env node
// One entry point for `npm run demo`, `npm test`, `npm run smoke`, `npm run matrix` and
// `npm run bench` on a fresh clone.
// It needs only Node and npm: it provisions Node 24 when the one running it is not 22.15+
// or 24, a pinned pnpm, installs the workspace and builds it, then runs the task.
// Written in plain ESM that Node 18+ can run, because it may start under an old Node.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmInstall, provisionNode } from './tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = join(root, '.baton');
const NODE_PACKAGE_VERSION = '24.21.0';
const PNPM_VERSION = JSON.parse(
  readFileSync(join(root, 'package.json'), 'utf8'),
).packageManager.split('@')[1];
const [task = 'test', ...taskArgs] = process.argv.slice(2);

function log(message) {
  process.stderr.write(`[baton] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function runOrExit(command, args, options) {
  const status = run(command, args, options);
  if (status !== 0) process.exit(status);
}

function nodeIsSupported(version) {
  const [major, minor] = version.split('.').map(Number);
  return major >= 24 || (major === 22 && minor >= 15);
}

// 1. A supported Node: re-run this script under it when the current one is too old.
if (!nodeIsSupported(process.versions.node)) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    log(
      `Node ${process.versions.node} is too old; Baton needs Node 22.15+ or 24. Install one and retry.`,
    );
    process.exit(1);
  }
  let nodeBin;
  try {
    nodeBin = provisionNode(toolsDir, NODE_PACKAGE_VERSION, () =>
      log(
        `Node ${process.versions.node} is end-of-life; fetching Node ${NODE_PACKAGE_VERSION} from the npm registry`,
      ),
    );
  } catch (error) {
    log(error.message);
    process.exit(1);
  }
  const env = { ...process.env, PATH: `${dirname(nodeBin)}:${process.env.PATH}` };
  process.exit(run(nodeBin, [fileURLToPath(import.meta.url), task, ...taskArgs], { env }));
}

// 2. The pinned pnpm, run by this Node (no corepack, no global install).
const pnpmPrefix = join(toolsDir, `pnpm-${PNPM_VERSION}`);
const pnpmEntry = join(pnpmPrefix, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
if (!existsSync(pnpmEntry)) {
  log(`installing pnpm ${PNPM_VERSION}`);
  if (npmInstall(pnpmPrefix, `pnpm@${PNPM_VERSION}`) !== 0) process.exit(1);
}
const pnpm = (args) => run(process.execPath, [pnpmEntry, ...args]);
const pnpmOrExit = (args) => {
  const status = pnpm(args);
  if (status !== 0) process.exit(status);
};
// Child processes (pnpm scripts, the demo's services) must find this same Node and pnpm.
const shimDir = join(toolsDir, 'bin');
mkdirSync(shimDir, { recursive: true });
const shim = join(shimDir, 'pnpm');
const shimText = `#!/bin/sh\nexec "${process.execPath}" "${pnpmEntry}" "$@"\n`;
if (!existsSync(shim) || readFileSync(shim, 'utf8') !== shimText) {
  writeFileSync(shim, shimText, { mode: 0o755 });
}
process.env.PATH = `${shimDir}:${dirname(process.execPath)}:${process.env.PATH}`;

// 3. Install (only when the lockfile or the workspace settings changed) and build.
const stamp = join(root, 'node_modules', '.baton-install-stamp');
const installedFor = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
const installKey = `${createHash('sha256')
  .update(readFileSync(join(root, 'pnpm-lock.yaml')))
  .update(readFileSync(join(root, 'pnpm-workspace.yaml')))
  .digest('hex')}:${process.versions.node}`;
const installing = installedFor !== installKey;
if (installing) {
  log('installing workspace dependencies (pnpm install --frozen-lockfile)');
  pnpmOrExit(['install', '--frozen-lockfile', '--reporter=append-only']);
}
// Only what changed is rebuilt; after an install everything is (dependencies' types moved).
const { buildWorkspace } = await import('./build.mjs');
const buildStatus = buildWorkspace({ root, force: installing, log });
if (buildStatus !== 0) process.exit(buildStatus);
if (installing) writeFileSync(stamp, installKey);

// One plain closing line for CI logs: "tests: N passed, N failed, N skipped".
function printTotals(file) {
  try {
    const results = JSON.parse(readFileSync(file, 'utf8'));
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`,
    );
  } catch {
    // No results file: vitest itself failed to start; its own output says why.
  }
}

// 4. The task.
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
const demoEntry = join(root, 'examples', 'user-notification', 'dist', 'demo.js');
switch (task) {
  case 'demo':
    process.exit(run(process.execPath, [demoEntry, ...taskArgs]));
    break;
  case 'test': {
    log('type-checking and linting');
    // The tools' own entry points, run by this Node: `pnpm exec` costs a second each.
    runOrExit(process.execPath, [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json']);
    runOrExit(process.execPath, [bin('@biomejs/biome', 'bin/biome'), 'check', '.']);
    log('running the tests (vitest)');
    const resultsFile = join(toolsDir, 'vitest-results.json');
    const status = run(process.execPath, [
      bin('vitest', 'vitest.mjs'),
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${resultsFile}`,
      ...taskArgs,
    ]);
    printTotals(resultsFile);
    process.exit(status);
    break;
  }
  case 'docs':
    process.exit(run(process.execPath, [join(root, 'scripts', 'docs.mjs')]));
    break;
  case 'bench':
    process.exit(pnpm(['--filter', './bench', 'run', 'bench', ...taskArgs]));
    break;
  case 'smoke':
    process.exit(run(process.execPath, [join(root, 'smoke', 'run.mjs'), ...taskArgs]));
    break;
  case 'matrix':
    process.exit(run(process.execPath, [join(root, 'matrix', 'run.mjs'), ...taskArgs]));
    break;
  default:
    log(`unknown task "${task}": use demo, test, smoke, matrix, docs or bench`);
    process.exit(2);
}
