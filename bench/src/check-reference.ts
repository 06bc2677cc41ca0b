// Checks that each scenario's hand-written reference records what Baton records: the same
// spans (names, kinds, parent/child, links, events) with the same attributes. Both run a
// few messages with an SDK that keeps every span; ids are reduced to their shape. A
// reference that records less than Baton would make Baton look slower than it is.
// `node dist/check-reference.js [scenario...]`; exits 1 when a reference differs.
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { scenarios } from './scenarios.js';
import { createRecordingSdk } from './sdk.js';

const MESSAGES = 3;
const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Per-run names (unique queues, streams, topics) and per-message ids vary between runs.
const normalize = (value: unknown): string => {
  if (typeof value === 'number') return '<number>';
  if (typeof value !== 'string') return JSON.stringify(value);
  if (UUID.test(value)) return '<uuid>';
  if (/^\d+(-\d+)?$/.test(value)) return '<id>';
  return value.replace(/baton-bench-[\w-]+/g, '<unique>');
};

/** One span as a sorted list of lines, relations named by the other span's name. */
function shape(span: ReadableSpan, all: ReadableSpan[]): string[] {
  const nameOf = (spanId: string | undefined) => {
    if (spanId === undefined) return 'none';
    const found = all.find((s) => s.spanContext().spanId === spanId);
    return found ? normalize(found.name) : 'remote';
  };
  const parentId = span.parentSpanContext?.spanId;
  const lines = [
    `kind ${KINDS[span.kind]}`,
    `parent ${nameOf(parentId)}`,
    ...span.links.map((l) => `link ${nameOf(l.context.spanId)}`),
    ...span.events.map((e) => `event ${e.name}`),
    ...Object.entries(span.attributes).map(([k, v]) => `attribute ${k} = ${normalize(v)}`),
  ];
  return lines.sort();
}

/** The spans of the first message's trace, by normalized name. */
function traceShape(spans: ReadableSpan[]): Map<string, string[]> {
  const first = spans.find((s) => s.kind === 3 || s.kind === 4);
  const traceId = first?.spanContext().traceId;
  const ofTrace = spans.filter((s) => s.spanContext().traceId === traceId);
  return new Map(ofTrace.map((s) => [normalize(s.name), shape(s, ofTrace)]));
}

async function record(
  name: string,
  code: 'baton' | 'handWritten',
): Promise<Map<string, string[]> | undefined> {
  const scenario = await scenarios[name]?.();
  if (!scenario?.handWritten) return undefined;
  const sdk = createRecordingSdk();
  const variant =
    code === 'baton'
      ? await scenario.baton({ tracerProvider: sdk.tracerProvider })
      : await scenario.handWritten({ tracerProvider: sdk.tracerProvider });
  await variant.run(MESSAGES);
  await variant.teardown();
  const spans = sdk.spans();
  await sdk.shutdown();
  return traceShape(spans);
}

const wanted = process.argv.slice(2);
let differs = false;
for (const name of Object.keys(scenarios)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const baton = await record(name, 'baton');
  const byHand = await record(name, 'handWritten');
  if (!baton || !byHand) {
    console.log(`${name}: skipped (no broker or no reference)`);
    continue;
  }
  const problems: string[] = [];
  for (const spanName of new Set([...baton.keys(), ...byHand.keys()])) {
    const a = baton.get(spanName);
    const b = byHand.get(spanName);
    if (!a || !b) {
      problems.push(`  span "${spanName}" only in ${a ? 'Baton' : 'the reference'}`);
      continue;
    }
    for (const line of a)
      if (!b.includes(line)) problems.push(`  ${spanName}: reference lacks ${line}`);
    for (const line of b)
      if (!a.includes(line)) problems.push(`  ${spanName}: Baton lacks ${line}`);
  }
  if (process.env.BENCH_VERBOSE) {
    for (const [spanName, lines] of baton)
      console.log(`${name} Baton "${spanName}"\n    ${lines.join('\n    ')}`);
  }
  console.log(
    problems.length === 0
      ? `${name}: the hand-written reference records the same ${baton.size} spans as Baton`
      : `${name}: the hand-written reference DIFFERS from Baton:\n${problems.join('\n')}`,
  );
  differs ||= problems.length > 0;
}
process.exit(differs ? 1 : 0);
