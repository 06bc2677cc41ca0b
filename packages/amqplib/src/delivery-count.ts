import { createHash } from 'node:crypto';
import { brokerDeliveryCount, ownHeaders } from './message.js';
import type { AmqpMessage } from './types.js';

/**
 * Most messages whose failures Baton remembers at once, process-wide (about 100 bytes
 * each). Past it the oldest count is forgotten: that message gets up to `maxDeliveries`
 * more deliveries, so the cap still holds unless this many poison messages cycle at once.
 */
export const MAX_COUNTED_MESSAGES = 10_000;

/**
 * Handler failures per message, for queues whose broker keeps no delivery count (classic
 * queues only say `redelivered`). Keyed by a digest of what identifies a message across
 * requeues: queue, exchange, routing key, `messageId`, `correlationId`, `timestamp`, the
 * `traceparent` header and the body; never the message itself. Bounded and shared by every
 * traced channel of the process, so a poison message that alternates between this
 * process's channels is counted once. An entry lives from a message's failed delivery
 * until it succeeds, is dead-lettered, or is evicted.
 */
export class FailureCounts {
  private readonly failures = new Map<string, number>();

  constructor(private readonly limit = MAX_COUNTED_MESSAGES) {}

  get size(): number {
    return this.failures.size;
  }

  /** Failed deliveries recorded for `key`. */
  get(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Records that `key` has failed `count` times; the newest entries are kept. */
  set(key: string, count: number): void {
    this.failures.delete(key);
    this.failures.set(key, count);
    if (this.failures.size > this.limit) {
      this.failures.delete(this.failures.keys().next().value as string);
    }
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

/** The process-wide table every traced channel uses. */
export const failureCounts = new FailureCounts();

function field(hash: ReturnType<typeof createHash>, value: unknown): void {
  if (value instanceof Uint8Array) hash.update(value);
  else if (value !== undefined && value !== null) hash.update(String(value));
  hash.update('\u0000');
}

/** The key {@link FailureCounts} uses for a delivery from `queue`. */
export function messageKey(message: AmqpMessage, queue: string): string {
  const { fields, properties } = message;
  const hash = createHash('sha1');
  for (const value of [
    queue,
    fields.exchange,
    fields.routingKey,
    properties.messageId,
    properties.correlationId,
    properties.timestamp,
    ownHeaders(properties.headers)?.traceparent,
  ]) {
    field(hash, value);
  }
  hash.update(message.content);
  return hash.digest('base64');
}

/** What a consumer knows of one delivery's place in its message's history. */
export interface DeliveryCount {
  /** This delivery's number: 1 for the first. */
  count: number;
  /** Whether the broker said so (quorum queues) rather than Baton's own table. */
  fromBroker: boolean;
  /** The {@link FailureCounts} key, computed once it is needed. */
  key: string | undefined;
}

/**
 * This delivery's number: the broker's count where it keeps one, else (or if higher, since
 * a publisher can set any header on a classic queue's message) the failures Baton saw plus
 * one. A first delivery (`redelivered` false) costs no digest.
 */
export function countDelivery(
  message: AmqpMessage,
  queue: string,
  counts: FailureCounts = failureCounts,
): DeliveryCount {
  const broker = brokerDeliveryCount(ownHeaders(message.properties.headers));
  if (message.fields.redelivered !== true) {
    return { count: broker ?? 1, fromBroker: broker !== undefined, key: undefined };
  }
  const key = messageKey(message, queue);
  const own = counts.get(key) + 1;
  return broker !== undefined && broker >= own
    ? { count: broker, fromBroker: true, key }
    : { count: own, fromBroker: false, key };
}
