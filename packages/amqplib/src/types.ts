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
 *   the message has been delivered {@link AmqplibConsumerOptions.maxDeliveries} times: then it is
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

/**
 * What Baton reports through `onError`, extending core's `ErrorInfo`:
 * - `operation: 'process'`: the handler threw or its promise rejected. In `ackMode: 'auto'`
 *   Baton then settled the message (see `requeue`); in `'manual'` mode a rejected promise
 *   is reported here (amqplib ignores a consumer's promise) and the message is yours to
 *   settle.
 * - `operation: 'settle'`: an ack or reject Baton sent after the handler could not be sent
 *   (the channel closed first: RabbitMQ delivers the message again).
 */
export interface AmqplibErrorInfo extends ErrorInfo {
  operation: 'process' | 'settle';
  /** The message's destination, as on its process span (`{exchange}:{routing key}:{queue}`). */
  destination: string;
  /** The queue the message was consumed from. */
  queue: string;
  /** amqplib's message, as the handler got it. */
  message: AmqpMessage;
  /**
   * This delivery's number, 1 for the first (see {@link AmqplibConsumerOptions.maxDeliveries}),
   * when known: always in auto mode; in manual mode only from a quorum queue's count.
   */
  deliveryCount?: number;
  /** For `'settle'`: the settle that could not be sent. */
  operationName?: 'ack' | 'reject';
  /**
   * For `'process'` in auto mode, when Baton settled the message: `true` if it was
   * requeued, `false` if it was rejected without requeue (dead-lettered, or dropped when the
   * queue has no dead-letter exchange); absent when the handler had settled it itself. For
   * a `'settle'` reject: whether it was to requeue.
   */
  requeue?: boolean;
}

/** @deprecated Renamed {@link AmqplibErrorInfo}; this alias goes in the next release. */
export type ConsumerErrorInfo = AmqplibErrorInfo;

/** Options of `traceProducer`. Every option is optional. */
export interface AmqplibProducerOptions extends BatonOptions {
  /**
   * Stamps each message with its publish time in ms under this header (unless the message
   * already has it), for the consumer's `baton.consumer.time_in_queue`; `true` is
   * `'timestamp_in_ms'`, the name the RabbitMQ message-timestamp plugin uses. Off by
   * default: the header is 25 bytes of AMQP properties, and RabbitMQ's CPU per message
   * doubles once a message's properties pass 64 bytes (a correlation id alone is 64; see
   * the README's "RabbitMQ's 64-byte cliff"). With an SDK, `traceparent` is past the step
   * anyway and the header costs little more. Without it, a consumer measures time in queue
   * from AMQP's `timestamp` property (whole seconds) when the publisher set it.
   * @defaultValue false
   */
  publishTimeHeader?: string | boolean;
}

/** Options of `traceConsumer`. Every option is optional. */
export interface AmqplibConsumerOptions extends BatonOptions {
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
   * Told about every handler failure Baton sees (auto mode, and rejected handler promises
   * in manual mode) and every settle Baton could not send. Baton keeps consuming either way;
   * errors this function throws are reported once through `diag` and ignored.
   * @defaultValue one `diag` warning per kind of failure
   * @example
   * onError: (error, { operation, destination, deliveryCount }) =>
   *   logger.error({ err: error, operation, destination, deliveryCount }, 'message failed'),
   */
  onError?(error: unknown, info: AmqplibErrorInfo): void;
  /**
   * The publish-time header to read for `baton.consumer.time_in_queue` (`true`:
   * `'timestamp_in_ms'`; `false`: none). @defaultValue 'timestamp_in_ms'
   */
  publishTimeHeader?: string | boolean;
  /**
   * Enables the `baton.consumer.lag` gauge (and `lag` in `healthOf`): Baton opens ONE
   * channel of its own on this connection and reads the message count of every queue this
   * channel consumes with `checkQueue`, at most once per {@link lagIntervalMs}.
   *
   * @example
   * const channel = traceConsumer(await connection.createChannel(), { lagConnection: connection });
   */
  lagConnection?: LagConnection;
  /** Least time between two queue depth reads. @defaultValue 10_000 */
  lagIntervalMs?: number;
}

/** Options of `traceChannel`: those of `traceProducer` and `traceConsumer`. */
export interface AmqplibOptions extends AmqplibProducerOptions, AmqplibConsumerOptions {
  onError?(error: unknown, info: AmqplibErrorInfo): void;
}

/** Options of `traceHandler`. Every option is optional. */
export interface TraceHandlerOptions extends BatonOptions {
  /**
   * The queue the handler consumes: the last part of the process span's destination
   * (`{exchange}:{routing key}:{queue}`). Without it the destination is
   * `{exchange}:{routing key}`.
   */
  queue?: string;
  /**
   * The publish-time header to read for `baton.consumer.time_in_queue` (`true`:
   * `'timestamp_in_ms'`; `false`: none). @defaultValue 'timestamp_in_ms'
   */
  publishTimeHeader?: string | boolean;
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
    /** AMQP's own conversation id: `messaging.message.conversation_id` (never changed). */
    correlationId?: unknown;
    timestamp?: unknown;
  };
}

/** What Baton requires of a channel: amqplib 0.10, 1.x or 2.x, promise or callback API. */
export interface AmqpChannelLike {
  publish(...args: never[]): boolean;
}
