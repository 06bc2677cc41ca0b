import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The published shape of each package: dist/ built by `npm test` before vitest runs.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = [
  'core',
  'event-emitter',
  'ioredis',
  'amqplib',
  'kafkajs',
  'pino',
  'testing',
  'prometheus',
].filter((name) => existsSync(join(root, 'packages', name, 'src', 'index.ts')));
const expectedExport: Record<string, string> = {
  core: 'MessagingTelemetry',
  'event-emitter': 'createEventBus',
  pino: 'batonMixin',
  testing: 'createTestTelemetry',
  prometheus: 'createPrometheusMetrics',
};

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, {
    cwd: join(root, 'test'),
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

describe.each(packages)('@baton/%s as published', (name) => {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));

  it('points main, types and exports at built files that exist', () => {
    expect(existsSync(join(root, 'packages', name, manifest.main))).toBe(true);
    expect(existsSync(join(root, 'packages', name, manifest.types))).toBe(true);
    expect(manifest.exports['.'].default).toBe(manifest.main);
  });

  it('ships the Apache-2.0 text it names as its license', () => {
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.files).toContain('LICENSE');
    const text = readFileSync(join(root, 'packages', name, 'LICENSE'), 'utf8');
    expect(text).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(text).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
  });

  it('loads with import from an ES module', () => {
    const keys = runNode([
      '--input-type=module',
      '-e',
      `const m = await import('@baton/${name}'); console.log(Object.keys(m).join(','))`,
    ]);
    expect(keys.trim().split(',').length).toBeGreaterThan(0);
    if (expectedExport[name]) expect(keys).toContain(expectedExport[name]);
  });

  it('loads with require() from a CommonJS module', () => {
    const keys = runNode([
      '--no-warnings',
      '--input-type=commonjs',
      '-e',
      `const m = require('@baton/${name}'); console.log(Object.keys(m).join(','))`,
    ]);
    expect(keys.trim().split(',').length).toBeGreaterThan(0);
    if (expectedExport[name]) expect(keys).toContain(expectedExport[name]);
  });
});
