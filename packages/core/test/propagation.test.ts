import { propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  edgeContext,
  extractContext,
  getCorrelationId,
  injectContext,
  isValidCorrelationId,
  readHeader,
  resolveCorrelationId,
  setCorrelationId,
} from '../src/index.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('readHeader', () => {
  it('reads strings, Buffers, byte arrays and numbers under any key case', () => {
    const headers = {
      Traceparent: Buffer.from(TRACEPARENT),
      'X-Correlation-Id': new TextEncoder().encode('abc'),
      timestamp_in_ms: 1700000000000,
    };
    expect(readHeader(headers, 'traceparent')).toBe(TRACEPARENT);
    expect(readHeader(headers, 'x-correlation-id')).toBe('abc');
    expect(readHeader(headers, 'timestamp_in_ms')).toBe('1700000000000');
  });

  it('looks past an exact-case key whose value is undefined', () => {
    expect(readHeader({ traceparent: undefined, Traceparent: TRACEPARENT }, 'traceparent')).toBe(
      TRACEPARENT,
    );
  });

  it('returns every value of a repeated header and ignores garbage values', () => {
    expect(readHeader({ baggage: [Buffer.from('a=1'), undefined, {}, 'b=2'] }, 'baggage')).toEqual([
      'a=1',
      'b=2',
    ]);
    expect(readHeader({ baggage: { nested: true } }, 'baggage')).toBeUndefined();
    expect(readHeader(null, 'baggage')).toBeUndefined();
    expect(readHeader('not an object' as never, 'baggage')).toBeUndefined();
  });
});

describe('extractContext', () => {
  it('uses the first valid traceparent when the header is repeated', () => {
    const ctx = extractContext(
      { traceparent: [Buffer.from('garbage'), Buffer.from(TRACEPARENT)] },
      ROOT_CONTEXT,
    );
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
  });

  it('joins repeated tracestate and baggage values', () => {
    const ctx = extractContext(
      {
        traceparent: TRACEPARENT,
        tracestate: ['a=1', 'b=2'],
        baggage: [Buffer.from('tenant_id=acme'), 'user_id=7'],
      },
      ROOT_CONTEXT,
    );
    expect(trace.getSpanContext(ctx)?.traceState?.serialize()).toBe('a=1,b=2');
    const baggage = propagation.getBaggage(ctx);
    expect(baggage?.getEntry('tenant_id')?.value).toBe('acme');
    expect(baggage?.getEntry('user_id')?.value).toBe('7');
  });

  it('starts from nothing when traceparent is malformed, and still gives a correlation id', () => {
    for (const garbage of [
      '',
      'zz',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      '\u0000\r\n',
    ]) {
      const ctx = extractContext(
        { traceparent: garbage, 'x-correlation-id': 'ok-1' },
        ROOT_CONTEXT,
      );
      expect(trace.getSpanContext(ctx)).toBeUndefined();
      expect(getCorrelationId(ctx)).toBe('ok-1');
    }
  });

  it('replaces unsafe correlation ids instead of echoing them', () => {
    for (const unsafe of ['a\r\nb', 'x'.repeat(129), 'has space', '', 'quote"d', 'tab\t']) {
      const ctx = extractContext({ 'x-correlation-id': unsafe }, ROOT_CONTEXT);
      const id = getCorrelationId(ctx);
      expect(id).not.toBe(unsafe);
      expect(isValidCorrelationId(id)).toBe(true);
    }
  });

  it('drops incoming baggage when asked (trust boundary)', () => {
    const ctx = extractContext(
      { traceparent: TRACEPARENT, baggage: 'tenant_id=evil' },
      ROOT_CONTEXT,
      { dropBaggage: true },
    );
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
    expect(propagation.getBaggage(ctx)).toBeUndefined();
  });
});

describe('injectContext', () => {
  it('writes a copy with the W3C headers and the correlation id, leaving the input alone', () => {
    const parent = setCorrelationId(
      extractContext({ traceparent: TRACEPARENT, baggage: 'k=v' }, ROOT_CONTEXT),
      'corr-9',
    );
    const input = Object.freeze({ 'content-type': 'application/json', BAGGAGE: 'stale' });
    const out = injectContext(input, parent);
    expect(out).not.toBe(input);
    expect(out).toMatchObject({
      'content-type': 'application/json',
      traceparent: TRACEPARENT,
      baggage: 'k=v',
      'x-correlation-id': 'corr-9',
    });
    expect(out).not.toHaveProperty('BAGGAGE');
  });
});

describe('correlation ids', () => {
  it('keeps valid ids and generates UUIDs otherwise', () => {
    expect(resolveCorrelationId('order-123:abc/def')).toBe('order-123:abc/def');
    expect(resolveCorrelationId(undefined)).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolveCorrelationId(42)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives an edge context a new id when none comes in', () => {
    const ctx = edgeContext();
    expect(isValidCorrelationId(getCorrelationId(ctx))).toBe(true);
  });

  it("keeps an HTTP instrumentation's active span at the edge and adds only the correlation id", () => {
    const server = trace.wrapSpanContext({
      traceId: TRACE_ID,
      spanId: '1111111111111111',
      traceFlags: 1,
    });
    const base = trace.setSpan(ROOT_CONTEXT, server);
    const ctx = edgeContext(
      { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, 'x-correlation-id': 'edge-7' },
      { base },
    );
    expect(trace.getSpanContext(ctx)?.spanId).toBe('1111111111111111');
    expect(getCorrelationId(ctx)).toBe('edge-7');
  });
});
