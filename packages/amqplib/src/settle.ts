import type { MessagingTelemetry } from '@baton/core';
import type { Attributes, Context } from '@opentelemetry/api';
import {
  ATTR_DELIVERY_TAG,
  ATTR_SETTLE_MULTIPLE,
  ATTR_SETTLE_REQUEUE,
  publishDestination,
  SYSTEM,
} from './message.js';
import type { AmqpMessage } from './types.js';

/** What Baton remembers of a delivery it traced, until the message is garbage collected. */
export interface DeliveryRecord {
  queue: string;
  /** The process span's context (consume) or the message's creation context (get). */
  context: Context;
}

/** The channel methods settling calls (amqplib's own, untouched). */
export interface RawSettleChannel {
  ack(message: AmqpMessage, allUpTo?: boolean): void;
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void;
  reject(message: AmqpMessage, requeue?: boolean): void;
  ackAll(): void;
  nackAll(requeue?: boolean): void;
}

/**
 * Traced `ack` / `nack` / `reject` / `ackAll` / `nackAll`, plus the bookkeeping that lets
 * `ackMode: 'auto'` skip messages the application settled itself. Delivery tags grow per
 * channel, so "everything up to tag N is settled" is one number, not a set.
 */
export class Settler {
  /** Deliveries of this channel, keyed by the message object the application holds. */
  readonly deliveries = new WeakMap<object, DeliveryRecord>();
  private readonly settled = new WeakSet<object>();
  private settledUpToTag = 0;
  private lastDeliveredTag = 0;

  constructor(
    private readonly channel: RawSettleChannel,
    private readonly telemetry: MessagingTelemetry,
    /** The name for channel-wide settles (`ackAll`): the only consumed queue, else `*`. */
    private readonly channelDestination: () => string,
  ) {}

  /** Called for every traced delivery before its handler runs. */
  delivered(message: AmqpMessage, record: DeliveryRecord): void {
    const tag = message.fields.deliveryTag;
    // Tags restart at 1 on a new channel (a recovering connection reuses the wrapper).
    if (tag <= this.lastDeliveredTag) this.settledUpToTag = 0;
    this.lastDeliveredTag = tag;
    this.deliveries.set(message, record);
  }

  /** True when the application settled this message (alone, with allUpTo or *All). */
  isSettled(message: AmqpMessage): boolean {
    return this.settled.has(message) || message.fields.deliveryTag <= this.settledUpToTag;
  }

  ack = (message: AmqpMessage, allUpTo?: boolean): void =>
    this.settleOne('ack', message, allUpTo, undefined, () => this.channel.ack(message, allUpTo));

  nack = (message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void =>
    this.settleOne('nack', message, allUpTo, requeue ?? true, () =>
      this.channel.nack(message, allUpTo, requeue),
    );

  reject = (message: AmqpMessage, requeue?: boolean): void =>
    this.settleOne('reject', message, false, requeue ?? true, () =>
      this.channel.reject(message, requeue),
    );

  ackAll = (): void => this.settleAll('ack', undefined, () => this.channel.ackAll());

  nackAll = (requeue?: boolean): void =>
    this.settleAll('nack', requeue ?? true, () => this.channel.nackAll(requeue));

  private settleOne(
    operationName: string,
    message: AmqpMessage,
    allUpTo: boolean | undefined,
    requeue: boolean | undefined,
    call: () => void,
  ): void {
    const record =
      message !== null && typeof message === 'object' ? this.deliveries.get(message) : undefined;
    const fields = message?.fields;
    const attributes: Attributes = {};
    if (fields) attributes[ATTR_DELIVERY_TAG] = fields.deliveryTag;
    if (allUpTo) attributes[ATTR_SETTLE_MULTIPLE] = true;
    if (requeue !== undefined) attributes[ATTR_SETTLE_REQUEUE] = requeue;
    const destination =
      record?.queue ?? (fields ? publishDestination(fields.exchange, fields.routingKey) : '*');
    this.telemetry.clientOperation(
      'settle',
      { system: SYSTEM, destination, operationName, attributes },
      () => {
        call();
        // Marked only once the client accepted the call (it throws on a closed channel).
        if (allUpTo) {
          this.settledUpToTag = Math.max(this.settledUpToTag, message.fields.deliveryTag);
        } else this.settled.add(message);
      },
      record?.context,
    );
  }

  private settleAll(operationName: string, requeue: boolean | undefined, call: () => void): void {
    const attributes: Attributes = { [ATTR_SETTLE_MULTIPLE]: true };
    if (requeue !== undefined) attributes[ATTR_SETTLE_REQUEUE] = requeue;
    this.telemetry.clientOperation(
      'settle',
      { system: SYSTEM, destination: this.channelDestination(), operationName, attributes },
      () => {
        call();
        this.settledUpToTag = this.lastDeliveredTag;
      },
    );
  }
}
