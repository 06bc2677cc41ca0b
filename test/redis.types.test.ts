import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

// test/types/ioredis-surface.ts calls @baton/ioredis as users do, with ioredis 5 and 6,
// Redis and Cluster, and is type-checked here the way a strict user project would: with
// exactOptionalPropertyTypes, against the published declarations (dist/, built by
// `npm test` before vitest runs), without skipLibCheck.
const tsc = join(
  dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
  'bin',
  'tsc',
);
const project = join(import.meta.dirname, 'types', 'tsconfig.json');

describe('@baton/ioredis types', () => {
  it('compile for Redis and Cluster of ioredis 5 and 6 under exactOptionalPropertyTypes', () => {
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
  }, 60_000);
});
