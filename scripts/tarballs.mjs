// Baton as a user installs it: the workspace's publishable packages packed with `pnpm pack`,
// and fresh npm projects that depend on those tarballs. Shared by the tarball smoke test
// (smoke/run.mjs) and the compatibility matrix (matrix/run.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command to completion; never throws. */
export function exec(command, commandArgs, cwd, env = process.env) {
  const started = Date.now();
  const result = spawnSync(command, commandArgs, { cwd, env, encoding: 'utf8' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  return { ok: result.status === 0, stdout: result.stdout ?? '', output, seconds };
}

/**
 * `pnpm pack`s every publishable package under packages/ into `destination`. Returns
 * whether every package was packed, pnpm's output, and for each package its name, tarball
 * path, file list (without the `package/` prefix) and the package.json it ships.
 */
export function packWorkspace(root, destination) {
  const publishable = readdirSync(join(root, 'packages'))
    .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')))
    .filter((manifest) => !manifest.private);
  // `npm run smoke`/`npm run matrix` put the workspace's pinned pnpm on PATH; run by hand,
  // use it directly.
  const pnpm = existsSync(join(root, '.baton', 'bin', 'pnpm'))
    ? join(root, '.baton', 'bin', 'pnpm')
    : 'pnpm';
  const pack = exec(
    pnpm,
    ['-r', '--filter', './packages/*', 'pack', '--pack-destination', destination],
    root,
  );
  const packages = [];
  for (const manifest of publishable) {
    const file = `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`;
    const path = join(destination, file);
    const listing = exec('tar', ['-tzf', path], destination);
    if (!listing.ok) continue;
    const files = listing.output.split('\n').map((f) => f.replace(/^package\//, ''));
    const shipped = JSON.parse(
      exec('tar', ['-xzOf', path, 'package/package.json'], destination).stdout,
    );
    packages.push({ name: manifest.name, file, path, files, shipped });
  }
  return {
    ok: pack.ok && packages.length === publishable.length,
    output: pack.output,
    packages,
  };
}

/**
 * Writes the package.json of a fresh npm project that depends on the tarballs (`file:`),
 * and never lets npm take Baton's packages from the registry: the tarballs depend on each
 * other by range, so `overrides` point those at the tarballs too.
 */
export function writeProjectManifest(dir, name, packages, extra = {}) {
  const baton = Object.fromEntries(packages.map((p) => [p.name, `file:${p.path}`]));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify(
      {
        name,
        private: true,
        type: 'module',
        dependencies: baton,
        overrides: Object.fromEntries(packages.map((p) => [p.name, `$${p.name}`])),
        ...extra,
      },
      null,
      2,
    )}\n`,
  );
}

/** The version of `name` installed at the top of `dir`'s node_modules, or undefined. */
export function installedVersion(dir, name) {
  try {
    return JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return undefined;
  }
}
