import type { InstrumentationScope, MessageDescription } from '@baton/core';
import { type ContextCarrier, entryTimestampMs, splitFields, type ValueMode } from './carrier.js';
import type { RawEntry } from './replies.js';
import type { ServerSource, StreamEntry } from './types.js';

/**
 * `error.type` of an error Redis replied with: `ReplyError`, whichever ioredis major made
 * it. ioredis 6 raises subclasses of redis-errors' `ReplyError` (`SimpleError`, `BlobError`,
 * both named `ReplyError`), ioredis 5 the class itself; one value keeps dashboards stable
 * across an upgrade. Everything else: the class name (core's default).
 */
export function redisErrorType(error: unknown): string | undefined {
  return error instanceof Error && error.name === 'ReplyError' ? 'ReplyError' : undefined;
}

/** The instrumentation scope of every span and metric this package makes. */
export const SCOPE: InstrumentationScope = Object.freeze({
  name: '@baton/ioredis',
  version: '0.1.0',
  errorType: redisErrorType,
});

/** `messaging.system`: semconv has no value for Redis, so Baton uses `redis`. */
export const SYSTEM = 'redis';

/** What is the same for every message of one client and group. */
export interface StaticDescription {
  consumerGroup?: string;
  serverAddress?: string;
  serverPort?: number;
}

interface ConnectOptions {
  host?: unknown;
  port?: unknown;
  path?: unknown;
}

/** `server.address` / `server.port` of an ioredis client (not for a unix socket or a cluster). */
export function serverOf(client: ServerSource | undefined): StaticDescription {
  const options = client?.options as ConnectOptions | undefined;
  if (!options || options.path || typeof options.host !== 'string') return {};
  return {
    serverAddress: options.host,
    ...(typeof options.port === 'number' && { serverPort: options.port }),
  };
}

/** A raw entry, parsed once: what the handler sees, and what the runner keeps beside it. */
export interface ParsedEntry<V extends string | Buffer = string | Buffer> {
  readonly entry: StreamEntry<V>;
  /** The fields exactly as Redis sent them, context fields included (for dead-lettering). */
  readonly raw: readonly (string | Buffer)[] | null;
  /** Only the context fields: the carrier core extracts from. */
  readonly carrier: ContextCarrier;
}

export function parseEntry<V extends string | Buffer>(
  stream: string,
  [id, raw]: RawEntry,
  deliveryCount: number,
  mode: ValueMode,
): ParsedEntry<V> {
  const { fields, fieldList, carrier } = splitFields<V>(raw, mode);
  const entry: StreamEntry<V> = {
    stream,
    id,
    fields,
    fieldList,
    deliveryCount,
    timestampMs: entryTimestampMs(id),
  };
  return { entry, raw, carrier };
}

/** The entry as core's neutral description; the entry itself is the native message. */
export function describeEntry(parsed: ParsedEntry, base: StaticDescription): MessageDescription {
  const { entry } = parsed;
  return {
    system: SYSTEM,
    destination: entry.stream,
    headers: parsed.carrier,
    message: entry,
    messageId: entry.id,
    ...(entry.timestampMs !== undefined && { timestampMs: entry.timestampMs }),
    deliveryCount: entry.deliveryCount,
    ...base,
  };
}
