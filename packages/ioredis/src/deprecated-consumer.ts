import { MessagingTelemetry } from '@baton/core';
import type { Redis } from 'ioredis';
import { createConsumer } from './consumer.js';
import { SCOPE } from './describe.js';
import { tracedHandler } from './trace-handler.js';
import type {
  EntryHandler,
  FieldBytes,
  FieldEncoding,
  StreamConsumer,
  StreamConsumerOptions,
  StreamEntry,
  TracedHandler,
  TraceHandlerOptions,
} from './types.js';

/** @deprecated renamed {@link StreamConsumer} */
export type GroupConsumer = StreamConsumer;

/** @deprecated renamed {@link TracedHandler} */
export type TracedEntryHandler<R, V extends string | Buffer = string> = TracedHandler<R, V>;

/**
 * Options of {@link createGroupConsumer}: those of `createConsumer`, with the group as
 * `group` and the entry handler as `eachEntry`.
 * @deprecated use `createConsumer` with `consumerGroup` and `eachMessage`
 */
export interface GroupConsumerOptions<E extends FieldEncoding = 'buffer'>
  extends Omit<StreamConsumerOptions<E>, 'consumerGroup' | 'eachMessage'> {
  /** @deprecated renamed `consumerGroup` */
  group: string;
  /** @deprecated renamed `eachMessage` */
  eachEntry?: EntryHandler<FieldBytes<E>>;
}

/**
 * Options of {@link traceEntryHandler}.
 * @deprecated use `traceHandler` with {@link TraceHandlerOptions} (`consumerGroup`)
 */
export interface EntryHandlerOptions extends Omit<TraceHandlerOptions, 'consumerGroup'> {
  /** @deprecated renamed `consumerGroup` */
  group?: string;
}

const warn = (telemetry: MessagingTelemetry, name: string, instead: string) =>
  telemetry.diagnostics.reportOnce(
    `deprecated ${name}`,
    `${name} is deprecated and goes away in the next release; use`,
    instead,
  );

/**
 * The consumer-group runner under its old name and option names.
 * @deprecated `createConsumer(redis, { stream, consumerGroup, eachMessage })`
 */
export function createGroupConsumer<E extends FieldEncoding = 'buffer'>(
  redis: Redis,
  options: GroupConsumerOptions<E>,
): StreamConsumer {
  const { group, eachEntry, ...rest } = options ?? ({} as GroupConsumerOptions<E>);
  const renamed = {
    ...rest,
    consumerGroup: group,
    ...(eachEntry !== undefined && { eachMessage: eachEntry }),
  } as StreamConsumerOptions<E>;
  warn(
    new MessagingTelemetry(SCOPE, renamed),
    'createGroupConsumer',
    'createConsumer(redis, { stream, consumerGroup, eachMessage })',
  );
  return createConsumer(redis, renamed);
}

/**
 * The handler wrapper under its old name.
 * @deprecated `traceHandler(handler, { consumerGroup })`
 */
export function traceEntryHandler<R, V extends string | Buffer = string>(
  handler: (entry: StreamEntry<V>) => R,
  options?: EntryHandlerOptions,
): TracedHandler<R, V> {
  const telemetry = new MessagingTelemetry(SCOPE, options);
  warn(telemetry, 'traceEntryHandler', 'traceHandler(handler, { consumerGroup })');
  return tracedHandler(handler, telemetry, options?.group, options?.client);
}
