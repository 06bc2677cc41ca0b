import type { BatchScope, BatonOptions, ErrorInfo } from '@baton/core';
import type { Redis } from 'ioredis';

/** A payload field value as ioredis accepts it. */
export type FieldValue = string | number | Buffer;

/**
 * What {@link traceProducer} needs of a client: an `xadd` method. Every ioredis `Redis` and
 * `Cluster` (5 and 6) has one; `server.address` / `server.port` come from its `options`
 * when it has a `host` (not for a unix socket or a cluster).
 */
export interface ProducerClient {
  xadd: (...args: never[]) => unknown;
}

/** Where a client connects, read for `server.address` / `server.port`. */
export interface ServerSource {
  readonly options?: object;
}

/**
 * How the group consumer hands payload fields to your handler: `'buffer'` (the exact bytes
 * Redis holds, binary-safe) or `'utf8'` (strings decoded as UTF-8, where invalid bytes
 * become U+FFFD in what the handler sees; the entry in Redis and its dead-letter copy keep
 * the exact bytes either way).
 */
export type FieldEncoding = 'buffer' | 'utf8';

/** The type of a field name or value under a {@link FieldEncoding}. */
export type FieldBytes<E extends FieldEncoding> = E extends 'utf8' ? string : Buffer;

/**
 * One stream entry as a handler sees it. `V` is `Buffer` (the consumer's default,
 * `fieldEncoding: 'buffer'`) or `string` (`fieldEncoding: 'utf8'`, or string entries given
 * to {@link traceHandler}). Hooks get this object as `info.message`, and
 * `runInMessageContext(entry, fn)` takes it in a batch.
 */
export interface StreamEntry<V extends string | Buffer = Buffer> {
  readonly stream: string;
  /** The entry id, `<ms>-<seq>`. */
  readonly id: string;
  /**
   * The payload fields by name (UTF-8 decoded names), without Baton's context fields. A
   * name that occurs more than once in the entry maps to its LAST value here; every value
   * is in {@link fieldList}.
   */
  readonly fields: Readonly<Record<string, V>>;
  /**
   * Every payload field in entry order as `[name, value]`, repeated names included, names
   * and values as {@link fields} types them (exact bytes in `'buffer'` mode).
   */
  readonly fieldList: ReadonlyArray<readonly [name: V, value: V]>;
  /** 1 on the first delivery; more when the entry was reclaimed or re-read. */
  readonly deliveryCount: number;
  /** The millisecond part of the id: when Redis added the entry (for ids Redis assigned). */
  readonly timestampMs: number | undefined;
}

/** Handles one entry. Resolving acknowledges it (`XACK`); throwing leaves it pending. */
export type EntryHandler<V extends string | Buffer = Buffer> = (entry: StreamEntry<V>) => unknown;

/**
 * Handles the entries of one read inside ONE `process <stream>` span that links to every
 * entry's producer; `runInMessageContext(entries[i], fn)` runs `fn` in entry `i`'s own
 * trace. Resolving acknowledges them all; throwing leaves them all pending.
 */
export type BatchHandler<V extends string | Buffer = Buffer> = (
  entries: readonly StreamEntry<V>[],
  /** @deprecated use `runInMessageContext(entries[i], fn)`; goes away in the next release */
  scope: BatchScope,
) => unknown;

/**
 * What a consumer reports through {@link StreamConsumerOptions.onError}: core's
 * `ErrorInfo` (`operation`, `destination` = the stream, `message` = the entry) and the
 * group.
 */
export interface ConsumerErrorInfo extends ErrorInfo {
  /**
   * What failed: `'process'` (a handler threw), `'receive'` (`XREADGROUP`, including a lost
   * connection), `'claim'` (`XAUTOCLAIM`), `'settle'` (`XACK`), `'release'` (handing unread
   * entries back on stop), `'dead-letter'`, `'create-group'`.
   */
  readonly operation:
    | 'process'
    | 'receive'
    | 'claim'
    | 'settle'
    | 'release'
    | 'dead-letter'
    | 'create-group';
  /** The stream. */
  readonly destination: string;
  readonly consumerGroup: string;
  /**
   * The entry concerned ({@link StreamEntry}), when there is one; for a failed
   * `eachBatch`, the entries it was given.
   */
  readonly message?: StreamEntry<string | Buffer> | readonly StreamEntry<string | Buffer>[];
  /** The id of the entry concerned (the first one, for a batch). */
  readonly entryId?: string;
  /** How many times the entry concerned was delivered (not for a batch). */
  readonly deliveryCount?: number;
  /** @deprecated use `destination` */
  readonly stream: string;
  /** @deprecated use `consumerGroup` */
  readonly group: string;
}

/** Options of {@link createConsumer}: the stream, the group, a handler, and tuning. */
export interface StreamConsumerOptions<E extends FieldEncoding = 'buffer'> extends BatonOptions {
  /** The stream to read. */
  stream: string;
  /** The consumer group (`messaging.consumer.group.name`). */
  consumerGroup: string;
  /**
   * This consumer's name in the group. Keep it stable across restarts so that entries it
   * had read and not acknowledged come back at once when it restarts.
   * @defaultValue `<hostname>-<pid>-<n>`
   */
  consumer?: string;
  /** Called for each entry. Give this or {@link eachBatch}. */
  eachMessage?: EntryHandler<FieldBytes<E>>;
  /** Called for the entries of each read, in one span. Give this or {@link eachMessage}. */
  eachBatch?: BatchHandler<FieldBytes<E>>;
  /**
   * Payload fields as the exact bytes (`'buffer'`) or as UTF-8 strings (`'utf8'`). Baton's
   * own context fields are decoded either way; the dead-letter copy is byte-identical.
   * @defaultValue 'buffer'
   */
  fieldEncoding?: E;
  /** Create the group (and the stream, `MKSTREAM`) when it does not exist. @defaultValue false */
  createGroup?: boolean;
  /** Where a created group starts: `'$'` new entries only, `'0'` the whole stream. @defaultValue '$' */
  groupStartId?: string;
  /** Entries per `XREADGROUP` / `XAUTOCLAIM` (`COUNT`). @defaultValue 10 */
  count?: number;
  /** Longest wait of one `XREADGROUP` (`BLOCK`), in ms. @defaultValue 2000 */
  blockMs?: number;
  /** Handlers running at once for the entries of one read (1 keeps stream order). @defaultValue 1 */
  concurrency?: number;
  /**
   * An entry left pending this long (its handler failed, or its consumer died) is claimed
   * with `XAUTOCLAIM` and handled again, in its original trace. Also how often the consumer
   * looks for such entries. Keep it above your slowest handler.
   * @defaultValue 30_000
   */
  claimIdleMs?: number;
  /**
   * Deliveries after which a failing entry moves to {@link deadLetterStream} (and is
   * acknowledged on the original stream). `Infinity` retries forever.
   * @defaultValue 5
   */
  maxDeliveries?: number;
  /** Where dead entries go, with the reason. @defaultValue `<stream>:dead-letter` */
  deadLetterStream?: string;
  /**
   * Least time between two `XINFO GROUPS` reads for the lag gauges and `healthOf`'s lag.
   * @defaultValue 10_000
   */
  lagIntervalMs?: number;
  /**
   * Told about every error the consumer sees and keeps going after: handler failures and
   * failed Redis calls (reads are retried with a backoff). A lost connection is reported
   * once per outage (`operation: 'receive'`), not once per reconnect attempt; a missing
   * group (NOGROUP) once until it exists again. Errors it throws are ignored.
   * @defaultValue one `diag` warning per kind of error (`operation`)
   */
  onError?(error: unknown, info: ConsumerErrorInfo): void;
  /**
   * The connection for the blocking `XREADGROUP` (BLOCK ties a connection up). The consumer
   * uses it and leaves it open on stop. Its own connection the consumer can close: with
   * yours, a `stop()` while Redis is unreachable stops waiting for the read but cannot end
   * it, and entries Redis delivers to that read later are reclaimed after `claimIdleMs`;
   * a reply lost in a disconnect waits for the read ioredis resends on reconnect (up to
   * `blockMs`) before the consumer reads those entries again.
   * @defaultValue `redis.duplicate()` (without resending a read in flight on reconnect), closed on stop
   */
  blockingConnection?: Redis;
}

/** A consumer-group runner: returned by {@link createConsumer}. See `healthOf` for its health. */
export interface StreamConsumer {
  /**
   * Creates the group if asked, then starts reading in the background. Resolves once
   * reading has started; rejects only when the group cannot be created.
   */
  start(): Promise<void>;
  /**
   * Stops reading and waits for the handlers in flight and their acknowledgements.
   * Entries read but not handled yet stay pending, unacknowledged, and come back first
   * when a consumer of that name starts again (or to any consumer after `claimIdleMs`).
   */
  stop(): Promise<void>;
  /** The consumer name used in the group. */
  readonly consumer: string;
}

/** Options of {@link traceHandler}. */
export interface TraceHandlerOptions extends BatonOptions {
  /** The consumer group, for `messaging.consumer.group.name`. */
  consumerGroup?: string;
  /** The client, for `server.address` / `server.port`. */
  client?: ServerSource;
}

/**
 * An entry exactly as `XREADGROUP` / `XAUTOCLAIM` return it: `[id, [name, value, ...]]`,
 * as strings (`xreadgroup`) or Buffers (`xreadgroupBuffer`); `null` fields for an entry
 * deleted while pending.
 */
export type RawStreamEntry<V extends string | Buffer = string | Buffer> = readonly [
  id: string | Buffer,
  fields: readonly V[] | null,
];

/** What {@link traceHandler} returns: call it with each entry your loop reads. */
export type TracedHandler<R, V extends string | Buffer = string> = (
  stream: string | Buffer,
  entry: RawStreamEntry<V>,
  info?: { deliveryCount?: number },
) => R;
