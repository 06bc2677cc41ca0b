import {
  ATTR_ERROR_TYPE,
  applySemconvStability,
  type MessagingTelemetry,
  type NamedOperation,
} from '@baton/core';
import { type Attributes, type Context, type Span, SpanStatusCode } from '@opentelemetry/api';
import {
  ATTR_DELIVERY_TAG,
  ATTR_SETTLE_MULTIPLE,
  ATTR_SETTLE_REQUEUE,
  consumeDestination,
  type ServerAddress,
  SYSTEM,
  withServer,
} from './message.js';
import type { AmqpMessage } from './types.js';

function settleAttributes(
  tag: number,
  allUpTo: boolean | undefined,
  requeue: boolean | undefined,
  withTag = true,
): Attributes {
  // The delivery tag is already on the process span; a settle span needs it, an event not.
  const attributes: Attributes = withTag ? { [ATTR_DELIVERY_TAG]: tag } : {};
  if (allUpTo) attributes[ATTR_SETTLE_MULTIPLE] = true;
  if (requeue !== undefined) attributes[ATTR_SETTLE_REQUEUE] = requeue;
  return attributes;
}

/** What Baton remembers of an unsettled delivery it traced. */
export interface DeliveryRecord {
  queue: string;
  /** The message's destination, as on its process span: its settles are named after it. */
  destination: string;
  /** The process span's context (consume) or the message's creation context (get). */
  context: Context;
  /** The process span, to put settle events on while it is still open. */
  span: Span | undefined;
  /**
   * Whether that span was recording when the message arrived. When it was not (no SDK,
   * or sampled out), a settle span would not be recorded either: only the metric is.
   */
  recording: boolean;
  /** The delivery itself: a settle of another object with the same tag is not this one. */
  message: AmqpMessage;
  /** Settled (by the application or Baton), or its settle failed: nothing is left to send. */
  settled: boolean;
  /**
   * Its channel closed, or the object now speaks for a new channel (delivery tags started
   * again): the broker has the message back, and its tag may name another delivery now.
   */
  stale: boolean;
}

/** The channel methods settling calls (amqplib's own, untouched). */
export interface RawSettleChannel {
  ack(message: AmqpMessage, allUpTo?: boolean): void;
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void;
  reject(message: AmqpMessage, requeue?: boolean): void;
  ackAll(): void;
  nackAll(requeue?: boolean): void;
}

/** A settle Baton did not send because the message's channel is gone. */
export class ChannelClosedError extends Error {
  constructor(operation: string) {
    super(
      `@baton/amqplib: ${operation} not sent: the channel closed before the handler finished; RabbitMQ delivers the message again`,
    );
    this.name = 'ChannelClosedError';
  }
}

/**
 * Traced `ack` / `nack` / `reject` / `ackAll` / `nackAll`. A settle inside the handler is an
 * event on the message's process span (cheap, and where a reader looks for it); a settle
 * after the process span ended is a `settle` CLIENT span in the message's trace. Both record
 * `messaging.client.operation.duration`. A settle that fails is a failed settle span, and
 * marks the process span while it is open: the broker will deliver that message again.
 *
 * Also tells `ackMode: 'auto'` which deliveries the application settled itself. Records are
 * kept by delivery tag (tags grow per channel) from delivery until settlement, nothing
 * longer: at most what the broker itself has outstanding on this channel, with no cap that
 * could make an unsettled delivery look settled. They are dropped when the channel closes.
 */
export class Settler {
  private readonly unsettled = new Map<number, DeliveryRecord>();
  private lastDeliveredTag = 0;

  constructor(
    private readonly channel: RawSettleChannel,
    private readonly telemetry: MessagingTelemetry,
    /** The name for channel-wide settles (`ackAll`): the only consumed queue, else `*`. */
    private readonly channelDestination: () => string,
    private readonly server: () => ServerAddress | undefined,
  ) {}

  private describe(
    destination: string,
    operationName: string,
    attributes?: Attributes,
  ): NamedOperation {
    const description: NamedOperation = { system: SYSTEM, destination, operationName };
    if (attributes !== undefined) description.attributes = attributes;
    return withServer(description, this.server());
  }

  /** Deliveries Baton tracks as unsettled on this channel. */
  get size(): number {
    return this.unsettled.size;
  }

  /** Called for every traced delivery that will need settling, before its handler runs. */
  delivered(
    message: AmqpMessage,
    record: Pick<DeliveryRecord, 'queue' | 'destination' | 'context' | 'span' | 'recording'>,
  ): DeliveryRecord {
    const tag = message.fields.deliveryTag;
    // Tags restart at 1 on a new channel: a recovering wrapper reuses this object.
    if (tag <= this.lastDeliveredTag) this.channelGone();
    this.lastDeliveredTag = tag;
    const full: DeliveryRecord = { ...record, message, settled: false, stale: false };
    this.unsettled.set(tag, full);
    return full;
  }

  /**
   * The channel closed (or was replaced): the broker took its unsettled deliveries back.
   * Their records go; a handler still running finds its record stale.
   */
  channelGone(): void {
    for (const record of this.unsettled.values()) record.stale = true;
    this.unsettled.clear();
    this.lastDeliveredTag = 0;
  }

  /**
   * Baton's own settle of a delivery it traced (`ackMode: 'auto'`): throws what the channel
   * threw, or {@link ChannelClosedError} without touching a channel that is gone.
   */
  settleFor(record: DeliveryRecord, operation: 'ack' | 'reject', requeue?: boolean): void {
    if (record.stale) {
      const error = new ChannelClosedError(operation);
      record.settled = true;
      this.failed(operation, record, record.message, requeue, error);
      throw error;
    }
    if (operation === 'ack') this.ack(record.message);
    else this.reject(record.message, requeue);
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
      const record = this.unsettled.get(tag);
      if (record) record.settled = true;
      this.unsettled.delete(tag);
      return;
    }
    // Insertion order is tag order, so the settled ones are at the front.
    for (const [key, record] of this.unsettled) {
      if (key > tag) break;
      record.settled = true;
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
    const found = this.unsettled.get(tag);
    const record = found?.message === message ? found : undefined;
    const span = record?.span;
    if (record !== undefined && span !== undefined) {
      const open = record.recording && span.isRecording();
      if (open || !record.recording) {
        const startMs = performance.now();
        try {
          call();
        } catch (error) {
          this.failed(operationName, record, message, requeue, error, allUpTo);
          throw error;
        }
        this.forget(tag, allUpTo);
        this.telemetry.diagnostics.guard('settle telemetry', () => {
          if (open) {
            if (allUpTo || requeue !== undefined) {
              span.addEvent(
                operationName,
                applySemconvStability(
                  settleAttributes(tag, allUpTo, requeue, false),
                  this.telemetry.options.semconvStability,
                ),
              );
            } else span.addEvent(operationName);
          }
          this.telemetry.recordOperationDuration(
            'settle',
            this.describe(record.destination, operationName),
            startMs,
          );
        });
        return;
      }
    }
    const destination =
      record?.destination ??
      consumeDestination(message.fields.exchange, message.fields.routingKey, '');
    this.telemetry.clientOperation(
      'settle',
      this.describe(destination, operationName, settleAttributes(tag, allUpTo, requeue)),
      () => {
        try {
          call();
        } catch (error) {
          if (record) record.settled = true;
          this.unsettled.delete(tag);
          throw error;
        }
        this.forget(tag, allUpTo);
      },
      record?.context,
    );
  }

  /**
   * A settle inside the handler failed (the channel closed): the record goes, a failed
   * settle span records it (with `error.type`, also on the settle metric), and the open
   * process span is marked, since the broker will deliver the message again.
   */
  private failed(
    operationName: string,
    record: DeliveryRecord,
    message: AmqpMessage,
    requeue: boolean | undefined,
    error: unknown,
    allUpTo?: boolean,
  ): void {
    record.settled = true;
    const tag = message.fields.deliveryTag;
    if (this.unsettled.get(tag) === record) this.unsettled.delete(tag);
    try {
      this.telemetry.clientOperation(
        'settle',
        this.describe(record.destination, operationName, settleAttributes(tag, allUpTo, requeue)),
        () => {
          throw error;
        },
        record.context,
      );
    } catch {
      // The failure reaches the caller; this only recorded it.
    }
    const span = record.span;
    if (span === undefined || !record.recording) return;
    this.telemetry.diagnostics.guard('settle telemetry', () => {
      if (!span.isRecording()) return;
      if (error instanceof Error) span.recordException(error);
      span.setAttribute(ATTR_ERROR_TYPE, this.telemetry.errorType(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `${operationName} failed, so RabbitMQ will redeliver this message: ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
    });
  }

  private settleAll(operationName: string, requeue: boolean | undefined, call: () => void): void {
    const attributes: Attributes = { [ATTR_SETTLE_MULTIPLE]: true };
    if (requeue !== undefined) attributes[ATTR_SETTLE_REQUEUE] = requeue;
    this.telemetry.clientOperation(
      'settle',
      this.describe(this.channelDestination(), operationName, attributes),
      () => {
        call();
        for (const record of this.unsettled.values()) record.settled = true;
        this.unsettled.clear();
      },
    );
  }
}
