import { EventEmitter } from 'node:events';
import type { AmqpMessage } from '../src/index.js';

type Callback = (error: unknown, ok?: unknown) => void;
type OnMessage = (msg: AmqpMessage | null) => unknown;

/** What the fake recorded of one publish. */
export interface Published {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Record<string, unknown> | undefined;
  callback: Callback | undefined;
}

/**
 * An amqplib-shaped channel with no network: it records publishes and settles, and lets a
 * test deliver messages to consumers. `confirm: true` makes it a confirm channel whose
 * broker replies the test triggers with `confirm(index, error)`.
 */
export class FakeChannel extends EventEmitter {
  readonly published: Published[] = [];
  readonly settles: Array<{ op: string; tag?: number; allUpTo?: boolean; requeue?: boolean }> = [];
  readonly consumers = new Map<string, { queue: string; onMessage: OnMessage }>();
  /** What publish returns (back-pressure). */
  writable = true;
  /** Makes every client call throw, as amqplib does on a closed channel. */
  closed = false;
  private tag = 0;
  waitForConfirms?: () => Promise<void>;

  constructor(confirm = false) {
    super();
    if (confirm) this.waitForConfirms = async () => {};
  }

  private check() {
    if (this.closed) throw new Error('Channel closed');
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: Record<string, unknown>,
    callback?: Callback,
  ): boolean {
    this.check();
    this.published.push({ exchange, routingKey, content, options, callback });
    return this.writable;
  }

  sendToQueue(
    queue: string,
    content: Buffer,
    options?: Record<string, unknown>,
    callback?: Callback,
  ): boolean {
    return this.publish('', queue, content, options, callback);
  }

  /** The broker's confirm (null) or nack (an error) for publish number `index`. */
  confirm(index: number, error: Error | null = null) {
    this.published[index]?.callback?.(error, undefined);
  }

  async consume(queue: string, onMessage: OnMessage, _options?: unknown) {
    this.check();
    const consumerTag = `ctag-${this.consumers.size + 1}`;
    this.consumers.set(consumerTag, { queue, onMessage });
    return { consumerTag };
  }

  async cancel(consumerTag: string) {
    this.consumers.delete(consumerTag);
    return { consumerTag };
  }

  /** A message as amqplib would deliver it, from a recorded publish. */
  message(published: Published | undefined, extra: Partial<AmqpMessage['fields']> = {}) {
    return {
      content: published?.content ?? Buffer.from(''),
      fields: {
        deliveryTag: ++this.tag,
        redelivered: false,
        exchange: published?.exchange ?? '',
        routingKey: published?.routingKey ?? '',
        ...extra,
      },
      properties: {
        headers: { ...(published?.options?.headers as Record<string, unknown> | undefined) },
        messageId: published?.options?.messageId,
        correlationId: published?.options?.correlationId,
        timestamp: published?.options?.timestamp,
      },
    } satisfies AmqpMessage;
  }

  /** Delivers `msg` to the first consumer, returning what the consumer callback returned. */
  deliver(msg: AmqpMessage | null): unknown {
    const [consumer] = this.consumers.values();
    if (!consumer) throw new Error('no consumer');
    return consumer.onMessage(msg);
  }

  get(_queue: string, _options?: unknown, callback?: Callback): unknown {
    const next = this.pending.shift() ?? false;
    if (callback) {
      queueMicrotask(() => callback(null, next));
      return this;
    }
    return Promise.resolve(next);
  }
  /** Messages `get` returns, in order (then `false`). */
  readonly pending: AmqpMessage[] = [];

  ack(message: AmqpMessage, allUpTo?: boolean) {
    this.check();
    this.settles.push({ op: 'ack', tag: message.fields.deliveryTag, allUpTo });
  }
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean) {
    this.check();
    this.settles.push({ op: 'nack', tag: message.fields.deliveryTag, allUpTo, requeue });
  }
  reject(message: AmqpMessage, requeue?: boolean) {
    this.check();
    this.settles.push({ op: 'reject', tag: message.fields.deliveryTag, requeue });
  }
  ackAll() {
    this.check();
    this.settles.push({ op: 'ackAll' });
  }
  nackAll(requeue?: boolean) {
    this.check();
    this.settles.push({ op: 'nackAll', requeue });
  }
  /**
   * Any other channel method: proves Baton calls it on the original channel. (It returns
   * `this` wrapped: a method that returns the channel itself gets the view back, so
   * chained calls stay traced.)
   */
  whoAmI(): { self: FakeChannel } {
    return { self: this };
  }
  /** Returns the channel itself, as amqplib's `on` does. */
  chain() {
    return this;
  }
}
