import { MessagingTelemetry } from '@baton/core';
import { describeEntry, parseEntry, SCOPE, type StaticDescription, serverOf } from './describe.js';
import { type RawEntry, text } from './replies.js';
import type { StreamEntry, TracedHandler, TraceHandlerOptions } from './types.js';

/** What {@link traceHandler} builds from its options; shared with the deprecated alias. */
export function tracedHandler<R, V extends string | Buffer>(
  handler: (entry: StreamEntry<V>) => R,
  telemetry: MessagingTelemetry,
  consumerGroup: string | undefined,
  client: TraceHandlerOptions['client'],
): TracedHandler<R, V> {
  const base: StaticDescription = {
    ...(consumerGroup !== undefined && { consumerGroup }),
    ...serverOf(client),
  };
  return (stream, [id, fields], info) => {
    const raw: RawEntry = [text(id) ?? '', fields];
    const parsed = parseEntry<V>(text(stream) ?? '', raw, info?.deliveryCount ?? 1, 'as-given');
    return telemetry.process(describeEntry(parsed, base), () => handler(parsed.entry));
  };
}

/**
 * For your own `XREADGROUP` loop: wraps `handler` once, and each call runs it for one
 * entry in a `process <stream>` span parented to the entry's producer, with the entry's
 * correlation id and baggage active. `handler` gets the payload fields without the
 * context fields, as your loop read them: strings from `xreadgroup`, the exact bytes from
 * `xreadgroupBuffer` (type the handler's entry as `StreamEntry<Buffer>` then). Its result
 * and errors pass through unchanged; acknowledging stays yours.
 *
 * @example
 * const handle = traceHandler((entry) => bill(entry.fields), { consumerGroup: 'billing' });
 * const reply = await redis.xreadgroup('GROUP', 'billing', 'c1', 'STREAMS', 'orders', '>');
 * for (const [stream, entries] of reply ?? []) {
 *   for (const entry of entries) {
 *     await handle(stream, entry);
 *     await redis.xack(stream, 'billing', entry[0]);
 *   }
 * }
 */
export function traceHandler<R, V extends string | Buffer = string>(
  handler: (entry: StreamEntry<V>) => R,
  options?: TraceHandlerOptions,
): TracedHandler<R, V> {
  return tracedHandler(
    handler,
    new MessagingTelemetry(SCOPE, options),
    options?.consumerGroup,
    options?.client,
  );
}
