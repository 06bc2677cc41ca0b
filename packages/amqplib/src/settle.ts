import { applySemconvStability, guard, type MessagingTelemetry } from '@baton/core';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import {
  ATTR_DELIVERY_TAG,
  ATTR_SETTLE_MULTIPLE,
  ATTR_SETTLE_REQUEUE,
  publishDestination,
  SYSTEM,
} from './message.js';
import type { AmqpMessage } from './types.js';

/** What Baton remembers of an unsettled delivery it traced. */
export interface DeliveryRecord {
  queue: string;
  /** The process span's context (consume) or the message's creation context (get). */
  context: Context;
  /** The process span, to put settle events on while it is still open. */
  span: Span | undefined;
  /**
   * Whether that span was recording when the message arrived. When it was not (no SDK,
   * or sampled out), a settle span would not be recorded either: only the metric is.
   */
  recording: boolean;
}

/** The channel methods settling calls (amqplib's own, untouched). */
export interface RawSettleChannel {
  ack(message: AmqpMessage, allUpTo?: boolean): void;
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void;
  reject(message: AmqpMessage, requeue?: boolean): void;
  ackAll(): void;
  nackAll(requeue?: boolean): void;
}

// With prefetch the broker bounds unsettled deliveries; without, this bounds Baton's memory
// (the oldest records are forgotten: their settles are still traced, in the active context).
const MAX_UNSETTLED = 10_000;

/**
 * Traced `ack` / `nack` / `reject` / `ackAll` / `nackAll`. A settle inside the handler is an
 * event on the message's process span (cheap, and where a reader looks for it); a settle
 * after the process span ended is a `settle` CLIENT span in the message's trace. Both record
 * `messaging.client.operation.duration`. Also tells `ackMode: 'auto'` which deliveries the
 * application settled itself: delivery tags grow per channel, so records are kept by tag.
 */
export class Settler {
  private readonly unsettled = new Map<number, DeliveryRecord>();
  private lastDeliveredTag = 0;
  // queue -> settle operation -> metric attributes; bounded by the consumed queues.

  constructor(
    private readonly channel: RawSettleChannel,
    private readonly telemetry: MessagingTelemetry,
    /** The name for channel-wide settles (`ackAll`): the only consumed queue, else `*`. */
    private readonly channelDestination: () => string,
  ) {}

  /** Called for every traced delivery that will need settling, before its handler runs. */
  delivered(message: AmqpMessage, record: DeliveryRecord): void {
    const tag = message.fields.deliveryTag;
    // Tags restart at 1 on a new channel (a recovering connection reuses the wrapper).
    if (tag <= this.lastDeliveredTag) this.unsettled.clear();
    this.lastDeliveredTag = tag;
    if (this.unsettled.size >= MAX_UNSETTLED) {
      this.unsettled.delete(this.unsettled.keys().next().value as number);
    }
    this.unsettled.set(tag, record);
  }

  /** True when the application settled this delivery (alone, with allUpTo or *All). */
  isSettled(message: AmqpMessage): boolean {
    return !this.unsettled.has(message.fields.deliveryTag);
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

  private forget(tag: number, allUpTo: boolean | undefined): void {
    if (!allUpTo) {
      this.unsettled.delete(tag);
      return;
    }
    // Insertion order is tag order, so the settled ones are at the front.
    for (const key of this.unsettled.keys()) {
      if (key > tag) break;
      this.unsettled.delete(key);
    }
  }

  private settleOne(
    operationName: string,
    message: AmqpMessage,
    allUpTo: boolean | undefined,
    requeue: boolean | undefined,
    call: () => void,
  ): void {
    const tag: unknown = message?.fields?.deliveryTag;
    if (typeof tag !== 'number') {
      call(); // amqplib reports the bad argument itself
      return;
    }
    const record = this.unsettled.get(tag);
    // The delivery tag is already on the process span; a settle span needs it, an event not.
    const attributes = (withTag = true): Attributes => {
      const built: Attributes = withTag ? { [ATTR_DELIVERY_TAG]: tag } : {};
      if (allUpTo) built[ATTR_SETTLE_MULTIPLE] = true;
      if (requeue !== undefined) built[ATTR_SETTLE_REQUEUE] = requeue;
      return built;
    };
    const span = record?.span;
    if (record !== undefined && span !== undefined) {
      const open = record.recording && span.isRecording();
      if (open || !record.recording) {
        const startMs = performance.now();
        call();
        this.forget(tag, allUpTo);
        guard('settle telemetry', () => {
          if (open) {
            if (allUpTo || requeue !== undefined) {
              span.addEvent(
                operationName,
                applySemconvStability(attributes(false), this.telemetry.options.semconvStability),
              );
            } else span.addEvent(operationName);
          }
          this.recordDuration(record.queue, operationName, startMs);
        });
        return;
      }
    }
    const destination =
      record?.queue ?? publishDestination(message.fields.exchange, message.fields.routingKey);
    this.telemetry.clientOperation(
      'settle',
      { system: SYSTEM, destination, operationName, attributes: attributes() },
      () => {
        call();
        this.forget(tag, allUpTo);
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
        this.unsettled.clear();
      },
    );
  }

  private recordDuration(queue: string, operationName: string, startMs: number): void {
    this.telemetry.recordOperationDuration(
      'settle',
      { system: SYSTEM, destination: queue, operationName },
      startMs,
    );
  }
}
