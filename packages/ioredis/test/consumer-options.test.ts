import { Diagnostics, resetWarnings } from '@baton/core';
import { diag } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  checkRequiredOptions,
  DEFAULT_CONSUMER_OPTIONS,
  resolveConsumerOptions,
} from '../src/consumer-options.js';

const base = { stream: 'orders', consumerGroup: 'billing', eachMessage: () => {} };
const diagnostics = new Diagnostics('@baton/ioredis');

describe('resolveConsumerOptions', () => {
  beforeEach(() => resetWarnings());
  afterEach(() => vi.restoreAllMocks());

  it('fills in the defaults, a consumer name and the dead-letter stream', () => {
    const resolved = resolveConsumerOptions(base, diagnostics);
    expect(resolved).toMatchObject(DEFAULT_CONSUMER_OPTIONS);
    expect(resolved.consumer).toMatch(/^.+-\d+-\d+$/);
    expect(resolveConsumerOptions(base, diagnostics).consumer).not.toBe(resolved.consumer);
    expect(resolved.deadLetterStream).toBe('orders:dead-letter');
  });

  it('falls back to the default with one warning per option for a bad value', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const bad = {
      ...base,
      count: 0,
      claimIdleMs: -5,
      maxDeliveries: Infinity,
      fieldEncoding: 'latin1' as never,
    };
    const resolved = resolveConsumerOptions(bad, diagnostics);
    resolveConsumerOptions(bad, diagnostics);
    expect(resolved.count).toBe(10);
    expect(resolved.claimIdleMs).toBe(30_000);
    expect(resolved.maxDeliveries).toBe(Infinity);
    expect(resolved.fieldEncoding).toBe('buffer');
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls[0]?.[0]).toMatch(/^@baton\/ioredis: ignoring invalid option count=0/);
  });
});

describe('checkRequiredOptions', () => {
  it('throws when there is no stream, consumer group or exactly one handler', () => {
    expect(() => checkRequiredOptions({ ...base, stream: undefined as never })).toThrow(TypeError);
    expect(() => checkRequiredOptions({ ...base, consumerGroup: '' })).toThrow(/consumerGroup/);
    expect(() => checkRequiredOptions({ stream: 's', consumerGroup: 'g' })).toThrow(
      /eachMessage or eachBatch/,
    );
    expect(() => checkRequiredOptions({ ...base, eachBatch: () => {} })).toThrow(TypeError);
    expect(() => checkRequiredOptions(base)).not.toThrow();
  });
});
