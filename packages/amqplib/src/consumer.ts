import {
  type MessageDescription,
  type MessagingTelemetry,
  methodOwner,
  unwrappedOriginal,
} from '@baton/core';
import { type Context, trace } from '@opentelemetry/api';
import { countDelivery, type DeliveryCount, failureCounts, messageKey } from './delivery-count.js';
import { describeDelivery, type ServerAddress } from './message.js';
import type { DeliveryRecord, RawSettleChannel, Settler } from './settle.js';
import type { AckMode, AmqplibErrorInfo, AmqpMessage, FailureMode } from './types.js';

type Callback = (...args: unknown[]) => unknown;
export type OnMessage = (message: AmqpMessage | null) => unknown;

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
  server: () => ServerAddress | undefined;
  /**
   * A consumer started on `queue` (`active`), or stopped: cancelled by the application or
   * never started (`byBroker` false), or cancelled by the broker.
   */
  onConsumer(queue: string, active: boolean, byBroker: boolean): void;
  /** A delivery came from `queue`. */
  onDelivery(queue: string): void;
}

/** Traced `consume` and `cancel`, with amqplib's signatures and return values. */
export interface Consumer {
  consume(queue: string, onMessage: OnMessage, options?: unknown, ...rest: unknown[]): unknown;
  cancel(consumerTag: string, ...rest: unknown[]): unknown;
}

type Reported = Pick<AmqplibErrorInfo, 'destination' | 'queue' | 'message' | 'deliveryCount'>;

const ignore = () => {};

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

export function createConsumer(channel: RawConsumerChannel, config: ConsumerConfig): Consumer {
  const { telemetry, settler, timeHeader } = config;
  const requeueOnFailure = config.failureMode === 'requeue';
  const report = (error: unknown, info: AmqplibErrorInfo) => telemetry.reportError(error, info);
  // Consumer tags to their consumer's stop, for `cancel`; bounded by the app's consumers.
  const stops = new Map<string, (byBroker: boolean) => void>();

  // Baton's own settle after the handler; a failure (the channel closed) is reported.
  const send = (record: DeliveryRecord, info: Reported, requeue?: boolean): void => {
    try {
      if (requeue === undefined) settler.settleFor(record, 'ack');
      else settler.settleFor(record, 'reject', requeue);
    } catch (error) {
      report(error, {
        ...info,
        operation: 'settle',
        operationName: requeue === undefined ? 'ack' : 'reject',
        ...(requeue !== undefined && { requeue }),
      });
    }
  };

  // `reject`, not `nack`: from RabbitMQ 4.3 only a reject counts as a failed delivery in a
  // quorum queue's `x-delivery-count` (rabbitmq-server#15387); before, both are the same.
  const finish = (
    record: DeliveryRecord,
    delivery: DeliveryCount,
    info: Reported,
    error: unknown,
    failed: boolean,
  ): void => {
    if (!failed) {
      if (!record.settled) send(record, info);
      if (delivery.key !== undefined) failureCounts.forget(delivery.key);
      return;
    }
    const requeue = requeueOnFailure && delivery.count < config.maxDeliveries;
    const bySelf = record.settled;
    if (!bySelf) send(record, info, requeue);
    if (!bySelf && requeue) {
      failureCounts.set(delivery.key ?? messageKey(record.message, info.queue), delivery.count);
    } else if (delivery.key !== undefined) failureCounts.forget(delivery.key);
    report(error, { ...info, operation: 'process', ...(!bySelf && { requeue }) });
  };

  // In auto mode the ack / reject is written as the handler settles, inside the process
  // span: amqplib's settles are fire-and-forget socket writes, never a broker round trip.
  const handle = (
    onMessage: OnMessage,
    record: DeliveryRecord,
    delivery: DeliveryCount,
    info: Reported,
  ): unknown => {
    const done = (error: unknown, failed: boolean) => finish(record, delivery, info, error, failed);
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

  const consume: Consumer['consume'] = (queue, onMessage, options, ...rest) => {
    if (typeof onMessage !== 'function') return channel.consume(queue, onMessage, options, ...rest);
    const noAck = (options as { noAck?: unknown } | undefined)?.noAck === true;
    const auto = config.ackMode === 'auto' && !noAck;
    // OpenTelemetry's contrib instrumentation wraps `consume` to wrap the callback: with
    // 'baton' the consumer is registered through the function under the wrapper, so only
    // Baton's process span exists; with 'contrib' the wrapper's span is the process span.
    const owner = methodOwner(channel, 'consume') as RawConsumerChannel;
    const mode = telemetry.coexistenceOf(owner.consume);
    const register =
      mode === 'baton'
        ? (unwrappedOriginal(owner.consume) as RawConsumerChannel['consume']).bind(owner)
        : channel.consume.bind(channel);
    let active = true;
    let consumerTag: string | undefined;
    const stop = (byBroker: boolean) => {
      if (!active) return;
      active = false;
      if (consumerTag !== undefined) stops.delete(consumerTag);
      config.onConsumer(queue, false, byBroker);
    };
    const registered = (ok: unknown) => {
      const tag = (ok as { consumerTag?: unknown } | undefined)?.consumerTag;
      if (typeof tag !== 'string' || !active) return;
      consumerTag = tag;
      stops.set(tag, stop);
    };
    const traced: OnMessage = (message) => {
      // `null` is the broker cancelling the consumer (queue deleted, node down).
      if (message === null || typeof message !== 'object') {
        stop(true);
        return onMessage(message);
      }
      config.onDelivery(queue);
      let description: MessageDescription;
      let delivery: DeliveryCount | undefined;
      try {
        // Only auto mode counts failures, so only it knows more than the broker says.
        delivery = auto ? countDelivery(message, queue) : undefined;
        const known = delivery && (delivery.fromBroker || delivery.count > 1);
        description = describeDelivery(message, {
          queue,
          timeHeader,
          server: config.server(),
          ...(known && { deliveryCount: delivery?.count }),
        });
        if (mode === 'contrib') description.recordedByContrib = 'span';
      } catch (error) {
        // Not shaped like an amqplib delivery: hand it over untraced, as amqplib would.
        telemetry.diagnostics.warnOnce('amqplib delivery description', error);
        return onMessage(message);
      }
      const deliveryCount = delivery?.count ?? description.deliveryCount;
      const info: Reported = {
        destination: description.destination,
        queue,
        message,
        ...(deliveryCount !== undefined && { deliveryCount }),
      };
      const run = (context: Context) => {
        if (noAck) return onMessage(message);
        const span = trace.getSpan(context);
        const record = settler.delivered(message, {
          queue,
          destination: description.destination,
          context,
          span,
          recording: span?.isRecording() === true,
        });
        return auto && delivery ? handle(onMessage, record, delivery, info) : onMessage(message);
      };
      if (!auto) {
        // A synchronous throw passes through (amqplib then closes the channel, as without
        // Baton). A rejection would be dropped by amqplib and left unhandled: it is on the
        // process span, and goes to onError; the message stays the handler's to settle.
        const result = telemetry.process(description, run);
        if (!isPromiseLike(result)) return result;
        return Promise.resolve(result).then(undefined, (error: unknown) =>
          report(error, { ...info, operation: 'process' }),
        );
      }
      // The failure is on the process span, went to onError, and the message was settled.
      try {
        const result = telemetry.process(description, run);
        return isPromiseLike(result) ? Promise.resolve(result).then(ignore, ignore) : result;
      } catch {
        return undefined;
      }
    };
    config.onConsumer(queue, true, false);
    // Callback API: the consumer tag (or the failure) comes to the caller's callback.
    const callback = rest[0];
    if (typeof callback === 'function') {
      rest[0] = (error: unknown, ok: unknown) => {
        if (error == null) registered(ok);
        else stop(false);
        return (callback as Callback)(error, ok);
      };
    }
    let started: unknown;
    try {
      started = register(queue, traced, options, ...rest);
    } catch (error) {
      stop(false);
      throw error;
    }
    if (isPromiseLike(started)) started.then(registered, () => stop(false));
    return started;
  };

  const cancel: Consumer['cancel'] = (consumerTag, ...rest) => {
    stops.get(consumerTag)?.(false);
    return channel.cancel(consumerTag, ...rest);
  };

  return { consume, cancel };
}
