import type { BatonOptions } from '@baton/core';

/**
 * Who settles the deliveries of a traced `consume`:
 * - `'manual'`: your handler calls `ack` / `nack` / `reject` exactly as with bare amqplib
 *   (the default; Baton never acks on your behalf).
 * - `'auto'`: Baton acks when the handler returns (or its promise resolves) and nacks when
 *   it throws (or its promise rejects), per {@link FailureMode}. Ignored for `noAck`
 *   consumers and for messages you settled yourself.
 */
export type AckMode = 'manual' | 'auto';

/**
 * What a handler failure does under `ackMode: 'auto'`:
 * - `'requeue'`: `nack` with requeue, so the broker delivers the message again;
 * - `'dead-letter'`: `nack` without requeue, so the queue's dead-letter exchange gets it
 *   (or the broker drops it when the queue has none).
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

/** Options of {@link traceChannel}. Every option is optional. */
export interface AmqplibOptions extends BatonOptions {
  /** See {@link AckMode}. @defaultValue 'manual' */
  ackMode?: AckMode;
  /** See {@link FailureMode}; only used with `ackMode: 'auto'`. @defaultValue 'requeue' */
  failureMode?: FailureMode;
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
    timestamp?: unknown;
  };
}

/** What Baton requires of a channel: amqplib 0.10, 1.x or 2.x, promise or callback API. */
export interface AmqpChannelLike {
  publish(...args: never[]): boolean;
}
