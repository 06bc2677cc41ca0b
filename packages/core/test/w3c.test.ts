import { propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  edgeContext,
  extractContext,
  formatTraceParent,
  getCorrelationId,
  injectContext,
  MAX_BAGGAGE_MEMBERS,
  parseTraceParent,
  readHeader,
} from '../src/index.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const tp = (flags: string, version = '00', rest = '') =>
  `${version}-${TRACE_ID}-${SPAN_ID}-${flags}${rest}`;
const VALID_TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/;

describe('traceparent parsing (W3C Trace Context)', () => {
  it('accepts a version-00 header and rejects every malformed variant', () => {
    expect(parseTraceParent(tp('01'))).toMatchObject({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
    });
    for (const bad of [
      tp('01').toUpperCase(),
      tp('01', 'ff'),
      tp('01', '00', '-extra'), // version 00 has exactly four fields
      tp('0x'),
      tp('1'),
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `00_${TRACE_ID}-${SPAN_ID}-01`,
      `00-${TRACE_ID.slice(1)}-${SPAN_ID}0-01`,
      'x'.repeat(10_000),
      '',
    ]) {
      expect(parseTraceParent(bad), bad.slice(0, 60)).toBeNull();
    }
  });

  it('parses a future version by its version-00 prefix when a dash or the end follows', () => {
    expect(parseTraceParent(tp('01', 'cc', '-what-the-future-will-be-like'))?.traceId).toBe(
      TRACE_ID,
    );
    expect(parseTraceParent(tp('01', 'cc'))?.spanId).toBe(SPAN_ID);
    expect(parseTraceParent(tp('01', 'cc', 'x-not-separated'))).toBeNull();
  });

  it('keeps only the sampled and random bits of trace-flags, for all 256 values', () => {
    for (let flags = 0; flags < 256; flags++) {
      const hex = flags.toString(16).padStart(2, '0');
      const parsed = parseTraceParent(tp(hex));
      expect(parsed?.traceFlags, hex).toBe(flags & 0x03);
      const out = formatTraceParent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: flags });
      expect(out, hex).toMatch(VALID_TRACEPARENT);
      expect(out.endsWith(`-0${(flags & 3).toString(16)}`), hex).toBe(true);
    }
  });
});

describe('propagation without an SDK', () => {
  it('re-injects every valid incoming traceparent as a valid version-00 header, all 256 flag values', () => {
    for (let flags = 0; flags < 256; flags++) {
      const hex = flags.toString(16).padStart(2, '0');
      for (const incoming of [tp(hex), tp(hex, '7f', '-future-field')]) {
        const ctx = extractContext({ traceparent: incoming }, ROOT_CONTEXT);
        const out = injectContext({}, ctx);
        expect(out.traceparent, incoming).toMatch(VALID_TRACEPARENT);
        expect(out.traceparent?.slice(3, 52)).toBe(`${TRACE_ID}-${SPAN_ID}`);
        expect(parseTraceParent(out.traceparent)?.traceFlags).toBe(flags & 0x03);
      }
    }
  });
});

describe('carriers: own properties and repeated keys', () => {
  it('never reads inherited properties as headers', () => {
    const inherited = Object.create({ traceparent: tp('01'), 'x-correlation-id': 'inherited-id' });
    const ctx = extractContext(inherited, ROOT_CONTEXT);
    expect(trace.getSpanContext(ctx)).toBeUndefined();
    expect(getCorrelationId(ctx)).not.toBe('inherited-id');
    // What amqplib builds for a header table named `__proto__`.
    const decoded: Record<string, unknown> = {};
    Object.setPrototypeOf(decoded, { traceparent: tp('01'), Traceparent: tp('01') });
    expect(readHeader(decoded, 'traceparent')).toBeUndefined();
  });

  it('reads an own `__proto__` key as an ordinary header and copies it as one', () => {
    const headers = JSON.parse(`{"__proto__": "own", "traceparent": "${tp('01')}"}`);
    const out = injectContext(headers, ROOT_CONTEXT);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
  });

  it('takes the first VALID traceparent and correlation id of a repeated header', () => {
    const other = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ traceparent: ['garbage', tp('01'), other] }, TRACE_ID],
      [{ traceparent: [tp('01'), other] }, TRACE_ID],
      [{ traceparent: tp('01'), Traceparent: other }, TRACE_ID],
      [{ TRACEPARENT: 'garbage', traceparent: [Buffer.from(other)] }, 'a'.repeat(32)],
    ];
    for (const [headers, traceId] of cases) {
      expect(trace.getSpanContext(extractContext(headers, ROOT_CONTEXT))?.traceId).toBe(traceId);
    }
    const ctx = extractContext(
      { 'x-correlation-id': ['bad id\r\n', 'good-1', 'good-2'] },
      ROOT_CONTEXT,
    );
    expect(getCorrelationId(ctx)).toBe('good-1');
  });

  it('joins repeated tracestate and baggage whether repeated as an array or by key case', () => {
    const ctx = extractContext(
      {
        traceparent: tp('01'),
        tracestate: 'a=1',
        TraceState: 'b=2',
        baggage: ['x=1'],
        Baggage: 'y=2',
      },
      ROOT_CONTEXT,
    );
    expect(trace.getSpanContext(ctx)?.traceState?.serialize()).toBe('a=1,b=2');
    expect(
      propagation
        .getBaggage(ctx)
        ?.getAllEntries()
        .map(([key]) => key)
        .sort(),
    ).toEqual(['x', 'y']);
  });
});

describe('baggage limits and hostile values', () => {
  it('drops only the malformed member, keeps the others', () => {
    const ctx = extractContext({ baggage: 'a=%%%,b=2,=novalue,c, d = 4 ;meta=1' }, ROOT_CONTEXT);
    const baggage = propagation.getBaggage(ctx);
    expect(baggage?.getAllEntries().map(([key, entry]) => [key, entry.value])).toEqual([
      ['b', '2'],
      ['d', '4'],
    ]);
  });

  it('keeps at most the W3C limits and never a cut value', () => {
    const many = Array.from({ length: 300 }, (_, i) => `k${i}=v${i}`).join(',');
    const entries = propagation
      .getBaggage(extractContext({ baggage: many }, ROOT_CONTEXT))
      ?.getAllEntries();
    expect(entries).toHaveLength(MAX_BAGGAGE_MEMBERS);
    const long = `big=${'x'.repeat(5000)},small=1`;
    expect(
      propagation
        .getBaggage(extractContext({ baggage: long }, ROOT_CONTEXT))
        ?.getAllEntries()
        .map(([k]) => k),
    ).toEqual(['small']);
    // 8,192 bytes in all: a member that would cross the limit is dropped whole.
    const filler = Array.from({ length: 9 }, (_, i) => `f${i}=${'y'.repeat(1000)}`).join(',');
    const kept = propagation
      .getBaggage(extractContext({ baggage: filler }, ROOT_CONTEXT))
      ?.getAllEntries();
    expect(kept?.length).toBe(8);
    for (const [, entry] of kept ?? []) expect(entry.value).toHaveLength(1000);
  });

  it('reads a 10 MB header without trouble and round-trips what fits', () => {
    const huge = Buffer.alloc(10 * 1024 * 1024, 'z');
    huge.write('tenant_id=acme,', 0);
    const ctx = extractContext(
      { baggage: huge, traceparent: huge, tracestate: huge },
      ROOT_CONTEXT,
    );
    expect(propagation.getBaggage(ctx)?.getEntry('tenant_id')?.value).toBe('acme');
    expect(trace.getSpanContext(ctx)).toBeUndefined();
    const out = injectContext({}, ctx);
    expect(out.baggage).toBe('tenant_id=acme');
  });

  it('percent-encodes what it injects and decodes it back', () => {
    const baggage = propagation.createBaggage({ note: { value: 'a,b;c=d é' } });
    const out = injectContext({}, propagation.setBaggage(ROOT_CONTEXT, baggage));
    expect(out.baggage).not.toMatch(/[ ;]|,.*,/);
    const back = propagation.getBaggage(extractContext(out, ROOT_CONTEXT));
    expect(back?.getEntry('note')?.value).toBe('a,b;c=d é');
  });
});

describe('the HTTP edge', () => {
  const headers = {
    traceparent: tp('01'),
    baggage: 'tenant_id=evil,user_id=7',
    'x-correlation-id': 'edge-1',
  };

  it("drops an untrusted caller's baggage by default and keeps its trace and correlation id", () => {
    const ctx = edgeContext(headers, { base: ROOT_CONTEXT });
    expect(propagation.getBaggage(ctx)).toBeUndefined();
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
    expect(getCorrelationId(ctx)).toBe('edge-1');
  });

  it('keeps all baggage from a trusted caller, or only the listed keys', () => {
    const all = edgeContext(headers, { base: ROOT_CONTEXT, trustBaggage: 'all' });
    expect(propagation.getBaggage(all)?.getAllEntries()).toHaveLength(2);
    const listed = edgeContext(headers, { base: ROOT_CONTEXT, trustBaggage: ['user_id'] });
    expect(
      propagation
        .getBaggage(listed)
        ?.getAllEntries()
        .map(([key]) => key),
    ).toEqual(['user_id']);
  });

  it('applies the same trust to baggage an HTTP instrumentation already extracted', () => {
    const server = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    const base = propagation.setBaggage(
      trace.setSpan(ROOT_CONTEXT, server),
      propagation.createBaggage({ tenant_id: { value: 'evil' } }),
    );
    const ctx = edgeContext(headers, { base });
    expect(propagation.getBaggage(ctx)).toBeUndefined();
    expect(trace.getSpanContext(ctx)?.spanId).toBe(SPAN_ID);
  });
});
