import type { BatonOptions, ErrorInfo } from '@baton/core';

/**
 * Who settles the deliveries of a traced `consume`:
 * - `'manual'`: your handler calls `ack` / `nack` / `reject` exactly as with bare amqplib
 *   (the default; Baton never acks on your behalf).
 * - `'auto'`: Baton acks when the handler returns (or its promise resolves) and rejects when
 *   it throws (or its promise rejects), per {@link FailureMode}. Ignored for `noAck`
 *   consumers and for messages you settled yourself.
 */
export type AckMode = 'manual' | 'auto';

/**
 * What a handler failure does under `ackMode: 'auto'`:
 * - `'requeue'`: `reject` with requeue, so the broker delivers the message again, until
 *   the message has been delivered {@link AmqplibOptions.maxDeliveries} times: then it is
 *   rejected without requeue (dead-lettered);
 * - `'dead-letter'`: `reject` without requeue at once, so the queue's dead-letter exchange
 *   gets it.
 * Without a dead-letter exchange on the queue, RabbitMQ DROPS a message rejected without
 * requeue.
 */
export type FailureMode = 'requeue' | 'dead-letter';

/** A channel Baton may open to read queue depths: what `checkQueue` needs. */
export interface LagChannel {
  checkQueue(queue: string): PromiseLike<{ messageCount: number }>;
  close(): PromiseLike<unknown>;
  on(event: 'error' | 'close', listener: (error?: unknown) => void): unknown;
}

/** Anything that opens a promise-API channel: an amqplib `ChannelModel` (connection). */
export interface LagConnection {
  createChannel(): PromiseLike<LagChannel>;
}

/** What Baton reports through {@link AmqplibOptions.onError}. */
export interface ConsumerErrorInfo extends ErrorInfo {
  /**
   * What failed: `'handle'` the handler (it threw or its promise rejected); `'ack'`,
   * `'requeue'` or `'dead-letter'` the settle Baton sent after it (e.g. the channel closed
   * first: RabbitMQ then delivers the message again).
   */
  operation: 'handle' | 'ack' | 'requeue' | 'dead-letter';
  /** The queue the message was consumed from. */
  queue: string;
  /** amqplib's message, as the handler got it. */
  message: AmqpMessage;
  /** This delivery's number: 1 for the first (see {@link AmqplibOptions.maxDeliveries}). */
  deliveryCount: number;
  /**
   * For `'handle'`, when Baton settled the message: `true` if it was requeued, `false` if it
   * was rejected without requeue (dead-lettered, or dropped when the queue has no
   * dead-letter exchange). Absent when the handler had settled the message itself.
   */
  requeue?: boolean;
}

/** Options of {@link traceChannel}. Every option is optional. */
export interface AmqplibOptions extends BatonOptions {
  /** See {@link AckMode}. @defaultValue 'manual' */
  ackMode?: AckMode;
  /** See {@link FailureMode}; only used with `ackMode: 'auto'`. @defaultValue 'requeue' */
  failureMode?: FailureMode;
  /**
   * With `ackMode: 'auto'`: deliveries after which a failing message is rejected without
   * requeue (dead-lettered) instead of requeued. The count is RabbitMQ's own on quorum
   * queues (`x-delivery-count`, and `x-acquired-count` from 4.3); on classic queues, which
   * keep none, it is Baton's: failures seen in this process, kept per message in a bounded
   * table (see the README's "Delivery guarantees"). `Infinity` requeues forever.
   * @defaultValue 5
   */
  maxDeliveries?: number;
  /**
   * With `ackMode: 'auto'`: told about every handler failure and every settle that could not
   * be sent. Baton keeps consuming either way; errors this function throws are ignored.
   * @defaultValue one `diag` warning per kind of failure
   * @example
   * onError: (error, { operation, queue, deliveryCount }) =>
   *   logger.error({ err: error, operation, queue, deliveryCount }, 'message failed'),
   */
  onError?(error: unknown, info: ConsumerErrorInfo): void;
  /**
   * Header stamped with the publish time in ms (AMQP's `timestamp` property is whole
   * seconds) unless the message already has it; `false` turns it off. The default is the
   * name the RabbitMQ message-timestamp plugin uses.
   * @defaultValue 'timestamp_in_ms'
   */
  publishTimeHeader?: string | false;
  /**
   * Enables the `baton.consumer.lag` gauge: Baton opens ONE channel of its own on this
   * connection and reads the message count of every queue this channel consumes with
   * `checkQueue`, at most once per {@link AmqplibOptions.lagIntervalMs}.
   *
   * @example
   * const channel = traceChannel(await connection.createChannel(), { lagConnection: connection });
   */
  lagConnection?: LagConnection;
  /** Least time between two queue depth reads. @defaultValue 10_000 */
  lagIntervalMs?: number;
}

/** The fields of a delivery that Baton reads (amqplib's `Message`, typed structurally). */
export interface AmqpMessage {
  content: Buffer;
  fields: {
    deliveryTag: number;
    redelivered?: boolean;
    exchange: string;
    routingKey: string;
  };
  properties: {
    headers?: Record<string, unknown> | undefined;
    messageId?: unknown;
    correlationId?: unknown;
    timestamp?: unknown;
  };
}

/** What Baton requires of a channel: amqplib 0.10, 1.x or 2.x, promise or callback API. */
export interface AmqpChannelLike {
  publish(...args: never[]): boolean;
}
