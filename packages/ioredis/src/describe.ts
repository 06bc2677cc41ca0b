import type { MessageDescription } from '@baton/core';
import { entryTimestampMs, type SplitFields, splitFields } from './carrier.js';
import type { ProducerClient, RawStreamEntry, StreamEntry } from './types.js';

/** The instrumentation scope of every span and metric this package makes. */
export const SCOPE = Object.freeze({ name: '@baton/ioredis', version: '0.1.0' });

/** `messaging.system`: semconv has no value for Redis, so Baton uses `redis`. */
export const SYSTEM = 'redis';

/** What is the same for every message of one client and group. */
export interface StaticDescription {
  consumerGroup?: string;
  serverAddress?: string;
  serverPort?: number;
}

/** `server.address` / `server.port` of an ioredis client (not for a unix socket or a cluster). */
export function serverOf(client: Pick<ProducerClient, 'options'> | undefined): StaticDescription {
  const options = client?.options;
  if (!options || options.path || typeof options.host !== 'string') return {};
  return {
    serverAddress: options.host,
    ...(typeof options.port === 'number' && { serverPort: options.port }),
  };
}

/** A raw entry, parsed once: what the handler sees, and what the runner keeps beside it. */
export interface ParsedEntry {
  readonly entry: StreamEntry;
  /** The raw `[name, value, ...]` list, context fields included (for dead-lettering). */
  readonly raw: readonly string[] | null;
  /** Only the context fields: the carrier core extracts from. */
  readonly carrier: SplitFields['carrier'];
}

export function parseEntry(
  stream: string,
  [id, raw]: RawStreamEntry,
  deliveryCount: number,
): ParsedEntry {
  const { fields, carrier } = splitFields(raw);
  const entry: StreamEntry = {
    stream,
    id,
    fields,
    deliveryCount,
    timestampMs: entryTimestampMs(id),
  };
  return { entry, raw, carrier };
}

/** The entry as core's neutral description. */
export function describeEntry(parsed: ParsedEntry, base: StaticDescription): MessageDescription {
  const { entry } = parsed;
  return {
    system: SYSTEM,
    destination: entry.stream,
    headers: parsed.carrier,
    messageId: entry.id,
    timestampMs: entry.timestampMs,
    deliveryCount: entry.deliveryCount,
    consumerGroup: base.consumerGroup,
    serverAddress: base.serverAddress,
    serverPort: base.serverPort,
  };
}
