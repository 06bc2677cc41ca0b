import type { BatchScope, BatonOptions, ErrorInfo } from '@baton/core';
import type { Redis } from 'ioredis';

/** A payload field value as ioredis accepts it. */
export type FieldValue = string | number | Buffer;

/** Payload fields of one entry, by name. Baton adds the context fields beside them. */
export type StreamFields = Readonly<Record<string, FieldValue>>;

/**
 * How `XADD` trims and names the entry. Everything passes through to Redis unchanged.
 * @see https://redis.io/docs/latest/commands/xadd/
 */
export interface AddOptions {
  /** An explicit entry id (`<ms>-<seq>` or `<ms>-*`). @defaultValue '*' (Redis assigns it) */
  id?: string;
  /** Trim to this many entries (`MAXLEN`). */
  maxLen?: number;
  /** Evict entries with ids lower than this (`MINID`). */
  minId?: string;
  /** Trim approximately (`~`), which is much cheaper, instead of exactly (`=`). @defaultValue false */
  approximate?: boolean;
  /** Most entries one approximate trim may evict (`LIMIT`). */
  limit?: number;
  /** Do not create the stream when it does not exist (`NOMKSTREAM`). @defaultValue false */
  noMkStream?: boolean;
}

/** The client calls Baton's producer makes: any ioredis `Redis` or `Cluster` has them. */
export interface ProducerClient {
  xadd(...args: [key: string, ...args: FieldValue[]]): Promise<string | null>;
  /** Where the client connects, for `server.address` / `server.port`. */
  options?: { host?: string; port?: number; path?: string | null };
}

/** A pipeline or a `multi()` transaction of ioredis. */
export interface PipelineLike {
  xadd(...args: [key: string, ...args: FieldValue[], callback: AddCallback]): unknown;
}

/** ioredis's per-command callback in a pipeline. */
export type AddCallback = (error?: Error | null, id?: string | null) => void;

/** Traced `XADD`: returned by {@link traceProducer}. */
export interface StreamProducer {
  /**
   * Appends `fields` to `stream` with `XADD` inside a `send <stream>` span, with the
   * context fields (`traceparent`, `tracestate`, `baggage`, `x-correlation-id`) added.
   * Resolves to the entry id, like `redis.xadd`; rejects exactly as it does.
   */
  add(stream: string, fields: StreamFields, options?: AddOptions): Promise<string | null>;
  /**
   * Queues a traced `XADD` on an ioredis pipeline or `multi()`; the entry id comes back
   * from `exec()` as usual. The send span ends when the command's reply arrives (so it
   * never ends when the pipeline is never executed). Returns `pipeline` for chaining.
   */
  addTo<P extends PipelineLike>(
    pipeline: P,
    stream: string,
    fields: StreamFields,
    options?: AddOptions,
  ): P;
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
 * One stream entry as a handler sees it. `V` is `Buffer` (the group consumer's default,
 * `fieldEncoding: 'buffer'`) or `string` (`fieldEncoding: 'utf8'`, or string entries given
 * to {@link traceEntryHandler}).
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
 * entry's producer. `scope.runInMessageContext(i, fn)` runs `fn` in entry `i`'s own trace.
 * Resolving acknowledges them all; throwing leaves them all pending.
 */
export type BatchHandler<V extends string | Buffer = Buffer> = (
  entries: readonly StreamEntry<V>[],
  scope: BatchScope,
) => unknown;

/** What the consumer reports through {@link GroupConsumerOptions.onError}. */
export interface ConsumerErrorInfo extends ErrorInfo {
  /** Which step failed: a handler, or a Redis call the runner made. */
  operation: 'handle' | 'read' | 'ack' | 'claim' | 'release' | 'dead-letter' | 'create-group';
  stream: string;
  group: string;
  /** The entry concerned, when there is one. */
  entryId?: string;
}

/** Options of {@link createGroupConsumer}: the stream, the group, a handler, and tuning. */
export interface GroupConsumerOptions<E extends FieldEncoding = 'buffer'> extends BatonOptions {
  /** The stream to read. */
  stream: string;
  /** The consumer group. */
  group: string;
  /**
   * This consumer's name in the group. Keep it stable across restarts so that entries it
   * had read and not acknowledged come back at once when it restarts.
   * @defaultValue `<hostname>-<pid>-<n>`
   */
  consumer?: string;
  /** Called for each entry. Give this or {@link eachBatch}. */
  eachEntry?: EntryHandler<FieldBytes<E>>;
  /** Called for the entries of each read, in one span. Give this or {@link eachEntry}. */
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
   * with `XAUTOCLAIM` and handled again, in its original trace. Also how often the runner
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
  /** Where dead entries go, with their context fields and the reason. @defaultValue `<stream>:dead-letter` */
  deadLetterStream?: string;
  /** Least time between two `XINFO GROUPS` reads for the lag gauges. @defaultValue 10_000 */
  lagIntervalMs?: number;
  /**
   * Told about handler failures and failed Redis calls; the runner keeps going either
   * way (reads are retried with a backoff). A lost connection is reported once per outage
   * (`operation: 'read'`), not once per reconnect attempt; a missing group (NOGROUP) once
   * until it exists again. Errors it throws are ignored.
   * @defaultValue report through OpenTelemetry's `diag`
   */
  onError?: (error: unknown, info: ConsumerErrorInfo) => void;
  /**
   * The connection for the blocking `XREADGROUP` (BLOCK ties a connection up). The runner
   * uses it and leaves it open on stop. Its own connection the runner can close: with
   * yours, a `stop()` while Redis is unreachable stops waiting for the read but cannot end
   * it, and entries Redis delivers to that read later are reclaimed after `claimIdleMs`;
   * a reply lost in a disconnect waits for the read ioredis resends on reconnect (up to
   * `blockMs`) before the runner reads those entries again.
   * @defaultValue `redis.duplicate()` (without resending a read in flight on reconnect), closed on stop
   */
  blockingConnection?: Redis;
}

/** A consumer-group runner: returned by {@link createGroupConsumer}. */
export interface GroupConsumer {
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

/** Options of {@link traceEntryHandler}. */
export interface EntryHandlerOptions extends BatonOptions {
  /** The consumer group, for `messaging.consumer.group.name`. */
  group?: string;
  /** The client, for `server.address` / `server.port`. */
  client?: Pick<ProducerClient, 'options'>;
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

/** What {@link traceEntryHandler} returns: call it with each entry your loop reads. */
export type TracedEntryHandler<R, V extends string | Buffer = string> = (
  stream: string | Buffer,
  entry: RawStreamEntry<V>,
  info?: { deliveryCount?: number },
) => R;
