import { hostname } from 'node:os';
import { diag } from '@opentelemetry/api';
import type {
  BatchHandler,
  ConsumerErrorInfo,
  EntryHandler,
  FieldEncoding,
  GroupConsumerOptions,
} from './types.js';

/** The defaults of {@link GroupConsumerOptions}. */
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
    GroupConsumerOptions,
    keyof typeof DEFAULT_CONSUMER_OPTIONS | 'consumer' | 'eachEntry' | 'eachBatch'
  > {
  consumer: string;
  // The handlers get Buffers or strings as fieldEncoding says; the runner handles both.
  eachEntry?: EntryHandler<string | Buffer>;
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
  onError: NonNullable<GroupConsumerOptions['onError']>;
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

function reportThroughDiag(error: unknown, info: ConsumerErrorInfo): void {
  const where = info.entryId ? ` (entry ${info.entryId})` : '';
  diag.error(
    `@baton/ioredis: ${info.operation} failed on ${info.stream} for group ${info.group}${where}`,
    error,
  );
}

/**
 * Merges the options over {@link DEFAULT_CONSUMER_OPTIONS} once. A bad tuning value falls
 * back to its default with one `diag.warn`. Only a missing stream, group or handler throws:
 * without them there is nothing to run.
 */
export function resolveConsumerOptions<E extends FieldEncoding>(
  options: GroupConsumerOptions<E>,
): ResolvedConsumerOptions {
  if (!options || typeof options.stream !== 'string' || typeof options.group !== 'string') {
    throw new TypeError('@baton/ioredis: createGroupConsumer needs a stream and a group');
  }
  const hasEntry = typeof options.eachEntry === 'function';
  const hasBatch = typeof options.eachBatch === 'function';
  if (hasEntry === hasBatch) {
    throw new TypeError('@baton/ioredis: createGroupConsumer needs eachEntry or eachBatch (one)');
  }
  const resolved = { ...options } as Record<string, unknown>;
  for (const key of Object.keys(DEFAULT_CONSUMER_OPTIONS) as Array<keyof typeof CHECKS>) {
    const value = options[key];
    if (value !== undefined && CHECKS[key](value)) continue;
    if (value !== undefined) {
      diag.warn(
        `@baton/ioredis: ignoring invalid option ${key}=${String(value)}; using the default`,
      );
    }
    resolved[key] = DEFAULT_CONSUMER_OPTIONS[key];
  }
  consumersMade += 1;
  resolved.consumer =
    typeof options.consumer === 'string' && options.consumer.length > 0
      ? options.consumer
      : `${hostname()}-${process.pid}-${consumersMade}`;
  resolved.deadLetterStream =
    typeof options.deadLetterStream === 'string' && options.deadLetterStream.length > 0
      ? options.deadLetterStream
      : `${options.stream}:dead-letter`;
  const onError = options.onError;
  resolved.onError =
    typeof onError === 'function'
      ? (error: unknown, info: ConsumerErrorInfo) => {
          try {
            onError(error, info);
          } catch {
            // The user's reporter failed; the runner must keep going regardless.
          }
        }
      : reportThroughDiag;
  return resolved as unknown as ResolvedConsumerOptions;
}
