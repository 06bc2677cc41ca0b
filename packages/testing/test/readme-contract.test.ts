import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractSections, renderContractSections } from '../src/contract/tables.js';

const root = join(import.meta.dirname, '..', '..', '..');

// Each README's tables of spans attributes and metrics are generated from the contract
// that the conformance suite enforces (`npm run docs` rewrites them), so docs cannot drift.
const READMES: Record<string, string[]> = {
  'packages/core/README.md': ['attributes', 'metrics'],
  'packages/amqplib/README.md': ['attributes system=rabbitmq', 'metrics'],
  'packages/ioredis/README.md': ['attributes system=redis', 'metrics'],
};

describe('README tables generated from the telemetry contract', () => {
  for (const [path, sections] of Object.entries(READMES)) {
    it(`${path} has the contract's tables, as generated`, () => {
      const readme = readFileSync(join(root, path), 'utf8');
      expect(contractSections(readme)).toEqual(sections);
      expect(readme, `${path} is stale: run \`npm run docs\``).toBe(renderContractSections(readme));
    });
  }
});
