import {
  ATTR_MESSAGING_MESSAGE_ID,
  applySemconvStability,
  guard,
  type MessageDescription,
  type MessagingTelemetry,
  warnOnce,
} from '@baton/core';
import { type Context, type Span, trace } from '@opentelemetry/api';
import { countDelivery, type DeliveryCount, failureCounts, messageKey } from './delivery-count.js';
import { describeDelivery, SYSTEM } from './message.js';
import type { DeliveryRecord, RawSettleChannel, Settler } from './settle.js';
import type { AckMode, AmqpMessage, ConsumerErrorInfo, FailureMode } from './types.js';

type Callback = (...args: unknown[]) => unknown;
type OnMessage = (message: AmqpMessage | null) => unknown;

/** The channel methods the consumer calls (amqplib's own, untouched). */
export interface RawConsumerChannel extends RawSettleChannel {
  consume(queue: string, onMessage: OnMessage, options?: unknown, ...rest: unknown[]): unknown;
  get(queue: string, options?: unknown, ...rest: unknown[]): unknown;
  cancel(consumerTag: string, ...rest: unknown[]): unknown;
}

export interface ConsumerConfig {
  telemetry: MessagingTelemetry;
  settler: Settler;
  timeHeader: string | false;
  ackMode: AckMode;
  failureMode: FailureMode;
  maxDeliveries: number;
  /** Where auto mode's handler and settle failures go; never throws. */
  report(error: unknown, info: ConsumerErrorInfo): void;
  /** A consumer started (`true`) or stopped (`false`) on `queue`. */
  onConsumer(queue: string, active: boolean): void;
}

/** Traced `consume`, `get` and `cancel`, with amqplib's signatures and return values. */
export interface Consumer {
  consume(queue: string, onMessage: OnMessage, options?: unknown, ...rest: unknown[]): unknown;
  get(queue: string, options?: unknown, ...rest: unknown[]): unknown;
  cancel(consumerTag: string, ...rest: unknown[]): unknown;
}

const ignore = () => {};

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

export function createConsumer(channel: RawConsumerChannel, config: ConsumerConfig): Consumer {
  const { telemetry, settler, timeHeader } = config;
  const requeueOnFailure = config.failureMode === 'requeue';
  // Consumer tags to queues, for `cancel`; bounded by the application's own consumers.
  const consumerQueues = new Map<string, string>();

  // Baton's own settle after the handler; a failure (the channel closed) is reported.
  const send = (
    record: DeliveryRecord,
    info: Pick<ConsumerErrorInfo, 'queue' | 'message' | 'deliveryCount' | 'requeue'>,
    operation: 'ack' | 'requeue' | 'dead-letter',
  ): void => {
    try {
      if (operation === 'ack') settler.settleFor(record, 'ack');
      else settler.settleFor(record, 'reject', operation === 'requeue');
    } catch (error) {
      config.report(error, { ...info, operation });
    }
  };

  // `reject`, not `nack`: from RabbitMQ 4.3 only a reject counts as a failed delivery in a
  // quorum queue's `x-delivery-count` (rabbitmq-server#15387); before, both are the same.
  const finish = (
    record: DeliveryRecord,
    delivery: DeliveryCount,
    queue: string,
    error: unknown,
    failed: boolean,
  ): void => {
    const { message } = record;
    const info = { queue, message, deliveryCount: delivery.count };
    if (!failed) {
      if (!record.settled) send(record, info, 'ack');
      if (delivery.key !== undefined) failureCounts.forget(delivery.key);
      return;
    }
    const requeue = requeueOnFailure && delivery.count < config.maxDeliveries;
    const bySelf = record.settled;
    if (!bySelf) send(record, info, requeue ? 'requeue' : 'dead-letter');
    if (!bySelf && requeue) {
      failureCounts.set(delivery.key ?? messageKey(message, queue), delivery.count);
    } else if (delivery.key !== undefined) failureCounts.forget(delivery.key);
    config.report(error, { ...info, operation: 'handle', ...(!bySelf && { requeue }) });
  };

  const consume: Consumer['consume'] = (queue, onMessage, options, ...rest) => {
    if (typeof onMessage !== 'function') return channel.consume(queue, onMessage, options, ...rest);
    const noAck = (options as { noAck?: unknown } | undefined)?.noAck === true;
    const auto = config.ackMode === 'auto' && !noAck;
    // In auto mode the ack / reject is written as the handler settles, inside the process
    // span: amqplib's settles are fire-and-forget socket writes, never a broker round trip.
    const handle = (record: DeliveryRecord, delivery: DeliveryCount): unknown => {
      const done = (error: unknown, failed: boolean) =>
        finish(record, delivery, queue, error, failed);
      let result: unknown;
      try {
        result = onMessage(record.message);
      } catch (error) {
        done(error, true);
        throw error;
      }
      if (!isPromiseLike(result)) {
        done(undefined, false);
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          done(undefined, false);
          return value;
        },
        (error: unknown) => {
          done(error, true);
          throw error;
        },
      );
    };
    const traced: OnMessage = (message) => {
      // `null` is the broker cancelling the consumer (queue deleted, node down).
      if (message === null || typeof message !== 'object') {
        config.onConsumer(queue, false);
        return onMessage(message);
      }
      let description: MessageDescription;
      let delivery: DeliveryCount | undefined;
      try {
        // Only auto mode counts failures, so only it knows more than the broker says.
        delivery = auto ? countDelivery(message, queue) : undefined;
        const known = delivery && (delivery.fromBroker || delivery.count > 1);
        description = describeDelivery(
          message,
          queue,
          timeHeader,
          undefined,
          known ? delivery?.count : undefined,
        );
      } catch (error) {
        // Not shaped like an amqplib delivery: hand it over untraced, as amqplib would.
        warnOnce('amqplib delivery description', error);
        return onMessage(message);
      }
      const run = (context: Context) => {
        if (noAck) return onMessage(message);
        const span = trace.getSpan(context);
        const record = settler.delivered(message, {
          queue,
          context,
          span,
          recording: span?.isRecording() === true,
        });
        return auto && delivery ? handle(record, delivery) : onMessage(message);
      };
      if (!auto) return telemetry.process(description, run);
      // The failure is on the process span, went to onError, and the message was settled.
      try {
        const result = telemetry.process(description, run);
        return isPromiseLike(result) ? Promise.resolve(result).then(ignore, ignore) : result;
      } catch {
        return undefined;
      }
    };
    const started = channel.consume(queue, traced, options, ...rest);
    config.onConsumer(queue, true);
    if (isPromiseLike(started)) {
      started.then((ok) => {
        const tag = (ok as { consumerTag?: unknown } | undefined)?.consumerTag;
        if (typeof tag === 'string') consumerQueues.set(tag, queue);
      }, ignore);
    }
    return started;
  };

  const cancel: Consumer['cancel'] = (consumerTag, ...rest) => {
    const queue = consumerQueues.get(consumerTag);
    if (queue !== undefined) {
      consumerQueues.delete(consumerTag);
      config.onConsumer(queue, false);
    }
    return channel.cancel(consumerTag, ...rest);
  };

  // A pulled message gets message attributes and a link to its producer on the receive
  // span; its settle spans join the message's trace.
  const received = (
    span: Span | undefined,
    queue: string,
    message: unknown,
    noAck: boolean,
  ): void => {
    if (message === null || typeof message !== 'object') return;
    const delivered = message as AmqpMessage;
    const description = describeDelivery(delivered, queue, timeHeader, 'receive');
    const creation = telemetry.messageContext(description);
    // A noAck get is settled by the broker: a record would never be removed.
    if (!noAck) {
      settler.delivered(delivered, { queue, context: creation, span: undefined, recording: false });
    }
    if (!span) return;
    guard('receive telemetry', () => {
      const attributes = { ...description.attributes };
      if (description.messageId !== undefined) {
        attributes[ATTR_MESSAGING_MESSAGE_ID] = description.messageId;
      }
      span.setAttributes(applySemconvStability(attributes, telemetry.options.semconvStability));
      const producer = trace.getSpanContext(creation);
      if (producer) span.addLink({ context: producer });
    });
  };

  const get: Consumer['get'] = (queue, options, ...rest) => {
    const noAck = (options as { noAck?: unknown } | undefined)?.noAck === true;
    const description = { system: SYSTEM, destination: queue, operationName: 'receive' };
    const callback = rest[0];
    if (typeof callback !== 'function') {
      return telemetry.clientOperation('receive', description, (span) => {
        const pending = channel.get(queue, options, ...rest);
        if (!isPromiseLike(pending)) return pending;
        return pending.then((message) => {
          received(span, queue, message, noAck);
          return message;
        });
      });
    }
    // Callback API: the span ends when the reply arrives; the caller gets get()'s value.
    let returned: unknown;
    const replied = telemetry.clientOperation('receive', description, (span) => {
      let settle: (error: unknown) => void = ignore;
      const outcome = new Promise<void>((resolve, reject) => {
        settle = (error) => (error == null ? resolve() : reject(error));
      });
      returned = channel.get(queue, options, (error: unknown, message: unknown) => {
        if (error == null) received(span, queue, message, noAck);
        settle(error);
        return (callback as Callback)(error, message);
      });
      return outcome;
    });
    replied.then(ignore, ignore);
    return returned;
  };

  return { consume, cancel, get };
}
