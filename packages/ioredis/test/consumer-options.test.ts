import { diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONSUMER_OPTIONS, resolveConsumerOptions } from '../src/consumer-options.js';

const base = { stream: 'orders', group: 'billing', eachEntry: () => {} };

describe('resolveConsumerOptions', () => {
  afterEach(() => vi.restoreAllMocks());

  it('fills in the defaults, a consumer name and the dead-letter stream', () => {
    const resolved = resolveConsumerOptions(base);
    expect(resolved).toMatchObject(DEFAULT_CONSUMER_OPTIONS);
    expect(resolved.consumer).toMatch(/^.+-\d+-\d+$/);
    expect(resolveConsumerOptions(base).consumer).not.toBe(resolved.consumer);
    expect(resolved.deadLetterStream).toBe('orders:dead-letter');
  });

  it('falls back to the default with one warning for a bad value', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const resolved = resolveConsumerOptions({
      ...base,
      count: 0,
      claimIdleMs: -5,
      maxDeliveries: Infinity,
      fieldEncoding: 'latin1' as never,
    });
    expect(resolved.count).toBe(10);
    expect(resolved.claimIdleMs).toBe(30_000);
    expect(resolved.maxDeliveries).toBe(Infinity);
    expect(resolved.fieldEncoding).toBe('buffer');
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls[0]?.[0]).toMatch(/^@baton\/ioredis: ignoring invalid option count=0/);
  });

  it('throws when there is no stream, group or exactly one handler', () => {
    expect(() => resolveConsumerOptions({ ...base, stream: undefined as never })).toThrow(
      TypeError,
    );
    expect(() => resolveConsumerOptions({ stream: 's', group: 'g' })).toThrow(
      /eachEntry or eachBatch/,
    );
    expect(() => resolveConsumerOptions({ ...base, eachBatch: () => {} })).toThrow(TypeError);
  });

  it('isolates a throwing onError', () => {
    const resolved = resolveConsumerOptions({
      ...base,
      onError: () => {
        throw new Error('reporter bug');
      },
    });
    expect(() =>
      resolved.onError(new Error('x'), { operation: 'ack', stream: 's', group: 'g' }),
    ).not.toThrow();
  });
});
