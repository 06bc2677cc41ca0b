import { MessagingTelemetry } from '@baton/core';
import { describeEntry, parseEntry, SCOPE, serverOf } from './describe.js';
import { type RawEntry, text } from './replies.js';
import type { EntryHandlerOptions, StreamEntry, TracedEntryHandler } from './types.js';

/**
 * For your own `XREADGROUP` loop: wraps `handler` once, and each call runs it for one
 * entry in a `process <stream>` span parented to the entry's producer, with the entry's
 * correlation id and baggage active. `handler` gets the payload fields without the
 * context fields, as your loop read them: strings from `xreadgroup`, the exact bytes from
 * `xreadgroupBuffer` (type the handler's entry as `StreamEntry<Buffer>` then). Its result
 * and errors pass through unchanged; acknowledging stays yours.
 *
 * @example
 * const handle = traceEntryHandler((entry) => bill(entry.fields), { group: 'billing' });
 * const reply = await redis.xreadgroup('GROUP', 'billing', 'c1', 'STREAMS', 'orders', '>');
 * for (const [stream, entries] of reply ?? []) {
 *   for (const entry of entries) {
 *     await handle(stream, entry);
 *     await redis.xack(stream, 'billing', entry[0]);
 *   }
 * }
 */
export function traceEntryHandler<R, V extends string | Buffer = string>(
  handler: (entry: StreamEntry<V>) => R,
  options?: EntryHandlerOptions,
): TracedEntryHandler<R, V> {
  const telemetry = new MessagingTelemetry(SCOPE, options);
  const base = { consumerGroup: options?.group, ...serverOf(options?.client) };
  return (stream, [id, fields], info) => {
    const raw: RawEntry = [text(id) ?? '', fields];
    const parsed = parseEntry<V>(text(stream) ?? '', raw, info?.deliveryCount ?? 1, 'as-given');
    return telemetry.process(describeEntry(parsed, base), () => handler(parsed.entry));
  };
}
