import { describe, expect, it } from 'vitest';
import { CONTEXT_FIELDS, entryTimestampMs, isContextField, splitFields } from '../src/carrier.js';
import { xaddArguments } from '../src/deprecated-producer.js';

describe('splitFields', () => {
  it('separates the payload from the context fields', () => {
    const { fields, carrier } = splitFields(
      [
        'orderId',
        '42',
        'traceparent',
        '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'baggage',
        'tenant_id=t1',
        'x-correlation-id',
        'corr-1',
        'tracestate',
        'v=1',
      ],
      'as-given',
    );
    expect(fields).toEqual({ orderId: '42' });
    expect(carrier).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      baggage: 'tenant_id=t1',
      'x-correlation-id': 'corr-1',
      tracestate: 'v=1',
    });
  });

  it('recognises context fields in any letter case and stores them lower case', () => {
    const { fields, carrier } = splitFields(
      ['TraceParent', 'tp', 'X-Correlation-Id', 'c', 'Body', 'b'],
      'as-given',
    );
    expect(carrier).toEqual({ traceparent: 'tp', 'x-correlation-id': 'c' });
    expect(fields).toEqual({ Body: 'b' });
  });

  it('hands every value of a repeated context field to core, in entry order', () => {
    const { carrier } = splitFields(
      [
        'traceparent',
        'garbage',
        'tracestate',
        'a=1',
        'TRACEPARENT',
        'tp',
        'tracestate',
        'b=2',
        'traceparent',
        'third',
      ],
      'as-given',
    );
    expect(carrier).toEqual({
      traceparent: ['garbage', 'tp', 'third'],
      tracestate: ['a=1', 'b=2'],
    });
  });

  it('keeps the last value of a repeated payload field by name and every value in fieldList', () => {
    const { fields, fieldList } = splitFields(
      ['a', '1', 'b', '2', 'a', '3', 'dangling'],
      'as-given',
    );
    expect(fields).toEqual({ a: '3', b: '2' });
    expect(fieldList).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
  });

  it('hands payload bytes over unchanged, or decoded as UTF-8 when asked, and decodes context fields', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x80, 0x00]);
    const flat = [Buffer.from('body'), bytes, Buffer.from('Traceparent'), Buffer.from('tp')];
    const asBuffers = splitFields<Buffer>(flat, 'buffer');
    expect(asBuffers.fields.body).toBe(bytes);
    expect(asBuffers.fieldList).toEqual([[Buffer.from('body'), bytes]]);
    expect(asBuffers.carrier).toEqual({ traceparent: 'tp' });
    expect(splitFields<string>(flat, 'utf8').fields).toEqual({ body: bytes.toString('utf8') });
    expect(splitFields<Buffer>(['s', 'text'], 'buffer').fields.s).toEqual(Buffer.from('text'));
  });

  it('does not take a non-ASCII name of the same length for a context field', () => {
    const name = Buffer.from('trac\u00c9parent', 'latin1');
    expect(splitFields([name, 'v'], 'buffer').carrier).toEqual({});
  });

  it('keeps a field named __proto__ as a plain field', () => {
    const { fields } = splitFields(['__proto__', 'x', 'b', 'y'], 'as-given');
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.entries(fields)).toEqual([
      ['__proto__', 'x'],
      ['b', 'y'],
    ]);
  });

  it('treats a missing field list (a deleted entry) as empty', () => {
    expect(splitFields(null, 'buffer')).toEqual({ fields: {}, fieldList: [], carrier: {} });
  });
});

describe('isContextField', () => {
  it('matches exactly the four context field names', () => {
    expect(CONTEXT_FIELDS).toEqual(['traceparent', 'tracestate', 'baggage', 'x-correlation-id']);
    for (const name of CONTEXT_FIELDS) expect(isContextField(name.toUpperCase())).toBe(true);
    for (const name of ['trace', 'baggages', 'x-correlation', 'correlation-id', 'BAGGAGE1']) {
      expect(isContextField(name)).toBe(false);
    }
  });
});

describe('entryTimestampMs', () => {
  it('reads the millisecond part of an entry id', () => {
    expect(entryTimestampMs('1718000000123-4')).toBe(1718000000123);
    expect(entryTimestampMs('1718000000123')).toBe(1718000000123);
  });

  it('ignores malformed ids and explicit ids that are not a time', () => {
    for (const id of ['', 'abc-1', '1-1', '0-1', '99999999999999999999-0', '-5']) {
      expect(entryTimestampMs(id)).toBeUndefined();
    }
  });
});

describe('xaddArguments', () => {
  it('puts trimming, the id and then the fields in XADD order', () => {
    expect(
      xaddArguments(
        { a: '1', traceparent: 'tp' },
        { maxLen: 1000, approximate: true, limit: 50, noMkStream: true },
      ),
    ).toEqual(['NOMKSTREAM', 'MAXLEN', '~', 1000, 'LIMIT', 50, '*', 'a', '1', 'traceparent', 'tp']);
    expect(xaddArguments({ a: 1 }, { minId: '1700000000000-0', id: '1700000000001-0' })).toEqual([
      'MINID',
      '=',
      '1700000000000-0',
      '1700000000001-0',
      'a',
      1,
    ]);
  });

  it('skips undefined and null values and passes Buffers through', () => {
    const buffer = Buffer.from('bytes');
    expect(xaddArguments({ a: undefined, b: null, c: buffer }, undefined)).toEqual([
      '*',
      'c',
      buffer,
    ]);
  });
});
