import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm test`, `npm run demo` and `pnpm build` run `tsc --build` over the project references
// of tsconfig.build.json. A workspace dependency without its reference would be built in
// the wrong order, or its dependents not rebuilt when its declarations change.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readJson = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));

interface Reference {
  path: string;
}
const projectDir = (from: string, reference: Reference) =>
  relative(root, dirname(join(root, from, reference.path)));
const projects = (readJson('tsconfig.build.json').references as Reference[]).map((r) =>
  projectDir('.', r),
);

const workspaceDirs = [
  ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}`),
  ...readdirSync(join(root, 'examples')).map((name) => `examples/${name}`),
  'bench',
  'test',
].filter((dir) => existsSync(join(root, dir, 'package.json')));
const dirOfPackage = new Map<string, string>(
  workspaceDirs.map((dir) => [readJson(`${dir}/package.json`).name as string, dir]),
);

describe('the build graph (tsconfig.build.json)', () => {
  it('lists every workspace package that has a tsconfig.build.json', () => {
    const buildable = workspaceDirs.filter((dir) =>
      existsSync(join(root, dir, 'tsconfig.build.json')),
    );
    expect(new Set(projects)).toEqual(new Set(buildable));
  });

  it.each(projects)('%s references exactly its workspace dependencies', (dir) => {
    const config = readJson(`${dir}/tsconfig.build.json`);
    const referenced = ((config.references ?? []) as Reference[]).map((r) => projectDir(dir, r));
    const dependencies = Object.keys(readJson(`${dir}/package.json`).dependencies ?? {})
      .map((name) => dirOfPackage.get(name))
      .filter((d): d is string => d !== undefined);
    expect(new Set(referenced)).toEqual(new Set(dependencies));
    // The build info lives in dist/, so deleting dist/ always means a rebuild.
    expect(config.compilerOptions).toMatchObject({
      composite: true,
      outDir: 'dist',
      tsBuildInfoFile: 'dist/.tsbuildinfo',
    });
  });
});
