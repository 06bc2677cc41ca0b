#!/usr/bin/env node
// Regenerates the README sections that come from the telemetry contract (between
// `<!-- contract:… -->` and `<!-- /contract -->`), from @baton/testing's built contract.
// Run through `npm run docs`, which builds first.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderContractSections } = await import(
  join(root, 'packages', 'testing', 'dist', 'contract', 'tables.js')
);
for (const name of readdirSync(join(root, 'packages'))) {
  const path = join(root, 'packages', name, 'README.md');
  let readme;
  try {
    readme = readFileSync(path, 'utf8');
  } catch {
    continue;
  }
  const next = renderContractSections(readme);
  if (next !== readme) {
    writeFileSync(path, next);
    process.stdout.write(`docs: updated ${join('packages', name, 'README.md')}\n`);
  }
}
