// Incremental build of every workspace project: `tsc --build` over the project references
// listed in tsconfig.build.json, each project keeping its .tsbuildinfo inside its dist/.
//
// `tsc --build` trusts file times: a source restored with an old time (cp -p, tar, rsync -t)
// would look built. So a content hash of each project's inputs is checked first. Nothing
// changed: the compiler does not even start. A project whose inputs changed loses its
// .tsbuildinfo, so tsc rebuilds it whatever the times say (and, as usual, rebuilds the
// projects that depend on it when its declarations change). Emitted JavaScript depends only
// on a file and the compiler options (isolatedModules), so these inputs are all there is.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

// tsc never deletes the output of a source file that is gone; it would be packed and run.
function pruneOrphans(project) {
  const dist = join(project, 'dist');
  for (const output of filesUnder(dist)) {
    const stem = relative(dist, output)
      .replace(/\.map$/, '')
      .replace(/(\.d)?\.[cm]?[jt]s$/, '');
    if (stem.startsWith('.')) continue; // .tsbuildinfo
    const sources = ['.ts', '.tsx', '.mts', '.cts'].map((ext) => join(project, 'src', stem + ext));
    if (!sources.some((source) => existsSync(source))) rmSync(output);
  }
}

function projectsOf(root) {
  const solution = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  return solution.references.map((reference) => dirname(join(root, reference.path)));
}

function inputsHash(root, project, compilerVersion) {
  const hash = createHash('sha256').update(compilerVersion);
  const inputs = [
    join(root, 'tsconfig.base.json'),
    join(project, 'tsconfig.build.json'),
    join(project, 'package.json'),
    ...filesUnder(join(project, 'src')),
  ];
  for (const file of inputs) {
    hash.update(`\0${relative(root, file)}\0`);
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

/**
 * Builds what changed. `force` rebuilds everything (after an install: dependencies'
 * declarations may have changed). Returns the compiler's exit status (0 when up to date).
 */
export function buildWorkspace({ root, nodePath = process.execPath, force = false, log }) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const compilerVersion = JSON.parse(
    readFileSync(join(root, 'node_modules', 'typescript', 'package.json'), 'utf8'),
  ).version;
  const stampFile = join(root, 'node_modules', '.cache', 'baton', 'build-inputs.json');
  const stamps = existsSync(stampFile) && !force ? JSON.parse(readFileSync(stampFile, 'utf8')) : {};

  // A stamp is the inputs' hash plus the time of the build info this script saw written:
  // a build by anything else (a plain `tsc --build`) changes that time, and then the
  // project is looked at again rather than trusted.
  const buildInfoOf = (name) => join(root, name, 'dist', '.tsbuildinfo');
  const builtAt = (name) =>
    existsSync(buildInfoOf(name)) ? statSync(buildInfoOf(name)).mtimeMs : -1;
  const hashes = {};
  const changed = [];
  for (const project of projectsOf(root)) {
    const name = relative(root, project);
    hashes[name] = inputsHash(root, project, compilerVersion);
    const stamp = stamps[name];
    if (stamp?.hash !== hashes[name] || stamp?.builtAt !== builtAt(name) || builtAt(name) < 0) {
      changed.push(name);
    }
  }
  if (changed.length === 0) {
    log('packages are up to date (no source changed since the last build)');
    return 0;
  }
  log(`building ${force ? 'everything' : changed.join(', ')}`);
  for (const name of changed) {
    // An epoch time makes tsc --build look at the project; its incremental program then
    // compares content hashes, file by file, so only what really changed is emitted again.
    if (builtAt(name) >= 0) utimesSync(buildInfoOf(name), 0, 0);
  }
  const args = [tsc, '--build', join(root, 'tsconfig.build.json')];
  if (force) args.push('--force');
  const result = spawnSync(nodePath, args, { stdio: 'inherit', cwd: root });
  const status = result.error ? 1 : (result.status ?? 1);
  if (status === 0) {
    for (const name of changed) pruneOrphans(join(root, name));
    mkdirSync(dirname(stampFile), { recursive: true });
    const current = Object.fromEntries(
      Object.entries(hashes).map(([name, hash]) => [name, { hash, builtAt: builtAt(name) }]),
    );
    writeFileSync(stampFile, `${JSON.stringify(current, null, 2)}\n`);
  }
  return status;
}
