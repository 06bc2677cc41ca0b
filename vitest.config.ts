import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources (the "@baton/source" export condition), so a
// stale dist/ can never hide a bug; `npm test` still builds and type-checks everything.
const resolve = { conditions: ['@baton/source'] };

export default defineConfig({
  resolve,
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
