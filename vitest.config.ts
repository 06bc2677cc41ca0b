import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources (the "@baton/source" export condition), so a
// stale dist/ can never hide a bug; `npm test` still builds and type-checks everything.
// Vite applies `resolve.conditions` to client code only; tests run as SSR, so the condition
// goes in `ssr.resolve` too.
const resolve = { conditions: ['@baton/source'] };
const ssr = { resolve: { conditions: ['@baton/source'], externalConditions: ['@baton/source'] } };

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Broker tests run one file at a time: they load the brokers and this 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
