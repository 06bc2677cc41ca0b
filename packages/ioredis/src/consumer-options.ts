import { hostname } from 'node:os';
import type { Diagnostics } from '@baton/core';
import type { BatchHandler, EntryHandler, FieldEncoding, StreamConsumerOptions } from './types.js';

/** The defaults of {@link StreamConsumerOptions}. */
export const DEFAULT_CONSUMER_OPTIONS = Object.freeze({
  createGroup: false,
  groupStartId: '$',
  count: 10,
  blockMs: 2000,
  concurrency: 1,
  claimIdleMs: 30_000,
  maxDeliveries: 5,
  lagIntervalMs: 10_000,
  fieldEncoding: 'buffer' as FieldEncoding,
});

/** Options with every tuning value settled. */
export interface ResolvedConsumerOptions
  extends Omit<
    StreamConsumerOptions,
    keyof typeof DEFAULT_CONSUMER_OPTIONS | 'consumer' | 'eachMessage' | 'eachBatch'
  > {
  consumer: string;
  // The handlers get Buffers or strings as fieldEncoding says; the consumer handles both.
  eachMessage?: EntryHandler<string | Buffer>;
  eachBatch?: BatchHandler<string | Buffer>;
  fieldEncoding: FieldEncoding;
  createGroup: boolean;
  groupStartId: string;
  count: number;
  blockMs: number;
  concurrency: number;
  claimIdleMs: number;
  maxDeliveries: number;
  lagIntervalMs: number;
  deadLetterStream: string;
}

let consumersMade = 0;

const isPositiveInteger = (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value > 0;
const isPositiveNumber = (value: unknown) =>
  typeof value === 'number' && !Number.isNaN(value) && value > 0;

const CHECKS: Record<keyof typeof DEFAULT_CONSUMER_OPTIONS, (value: unknown) => boolean> = {
  createGroup: (value) => typeof value === 'boolean',
  groupStartId: (value) => typeof value === 'string' && value.length > 0,
  count: isPositiveInteger,
  blockMs: isPositiveInteger,
  concurrency: isPositiveInteger,
  claimIdleMs: isPositiveInteger,
  maxDeliveries: (value) => value === Infinity || isPositiveInteger(value),
  lagIntervalMs: isPositiveNumber,
  fieldEncoding: (value) => value === 'buffer' || value === 'utf8',
};

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * Checks what there is nothing to run without: a stream, a group and exactly one handler.
 * Throws a TypeError naming what is missing.
 */
export function checkRequiredOptions<E extends FieldEncoding>(
  options: StreamConsumerOptions<E>,
): void {
  if (!options || !nonEmpty(options.stream) || !nonEmpty(options.consumerGroup)) {
    throw new TypeError('@baton/ioredis: createConsumer needs a stream and a consumerGroup');
  }
  const hasMessage = typeof options.eachMessage === 'function';
  const hasBatch = typeof options.eachBatch === 'function';
  if (hasMessage === hasBatch) {
    throw new TypeError('@baton/ioredis: createConsumer needs eachMessage or eachBatch (one)');
  }
}

/**
 * Merges the options over {@link DEFAULT_CONSUMER_OPTIONS} once. A bad tuning value falls
 * back to its default with one warning (per option) through `diagnostics`. Call
 * {@link checkRequiredOptions} first.
 */
export function resolveConsumerOptions<E extends FieldEncoding>(
  options: StreamConsumerOptions<E>,
  diagnostics: Diagnostics,
): ResolvedConsumerOptions {
  const resolved = { ...options } as Record<string, unknown>;
  for (const key of Object.keys(DEFAULT_CONSUMER_OPTIONS) as Array<keyof typeof CHECKS>) {
    const value = options[key];
    if (value !== undefined && CHECKS[key](value)) continue;
    if (value !== undefined) {
      diagnostics.reportOnce(
        `option ${key}`,
        `ignoring invalid option ${key}=${String(value)}; using the default`,
        DEFAULT_CONSUMER_OPTIONS[key],
      );
    }
    resolved[key] = DEFAULT_CONSUMER_OPTIONS[key];
  }
  consumersMade += 1;
  resolved.consumer = nonEmpty(options.consumer)
    ? options.consumer
    : `${hostname()}-${process.pid}-${consumersMade}`;
  resolved.deadLetterStream = nonEmpty(options.deadLetterStream)
    ? options.deadLetterStream
    : `${options.stream}:dead-letter`;
  return resolved as unknown as ResolvedConsumerOptions;
}
