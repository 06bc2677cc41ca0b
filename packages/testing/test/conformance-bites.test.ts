import { describe, expect, it } from 'vitest';
import { CASES, runConformanceCase, runConformanceSuite } from '../src/conformance.js';
import { type Breakage, createReferenceHarness } from './reference-adapter.js';

const reference = (breakage: Breakage, delivery: 'message' | 'batch' = 'message') => ({
  name: `reference adapter (${breakage}, ${delivery})`,
  onHandlerError: 'report' as const,
  delivery,
  capabilities: { publishRepeated: true },
  timeoutMs: 2_000,
  createHarness: async (options: object) => createReferenceHarness(options, breakage, delivery),
});

// The suite itself, green against a correct adapter, per message and per batch.
runConformanceSuite(reference('none'));
runConformanceSuite(reference('none', 'batch'));

const caseNamed = (start: string) => {
  const found = CASES.find((c) => c.name.startsWith(start));
  if (!found) throw new Error(`no case ${start}`);
  return found;
};

// What each breakage must be caught by (so a case cannot pass the bite test by failing
// for an unrelated reason).
const reasons: Record<Breakage, RegExp> = {
  none: /^$/,
  hooks: /expected \[\] to deeply equal|expected \[.*\] to deeply equal/s,
  inject: /expected|timed out/,
  link: /creation-link|expected \[.*\] to include|waiting for the process span/s,
  'error-type': /expected 0 to be greater than 0/,
  lose: /timed out after .* waiting for 200 deliveries/,
  attribute: /undocumented-attribute.*messaging\.reference\.secret/s,
};

describe('the conformance suite bites', () => {
  const breakages: Array<[Breakage, string, 'message' | 'batch']> = [
    ['hooks', 'calls publish and consume hooks', 'message'],
    ['inject', 'puts the handler in the producer trace', 'message'],
    ['inject', 'carries the correlation id', 'batch'],
    ['link', 'puts the handler in the producer trace', 'message'],
    ['link', 'puts the handler in the producer trace', 'batch'],
    ['error-type', "keeps the client's failure semantics", 'message'],
    ['lose', 'loses nothing', 'message'],
    ['attribute', 'records sent, consumed', 'message'],
  ];
  for (const [breakage, start, delivery] of breakages) {
    it(`fails "${start}…" when the adapter breaks: ${breakage} (${delivery})`, async () => {
      await expect(
        runConformanceCase(caseNamed(start), reference(breakage, delivery)),
      ).rejects.toThrow(reasons[breakage]);
    });
  }
});
