import {
  ATTR_MESSAGING_MESSAGE_ID,
  applySemconvStability,
  guard,
  type MessageDescription,
  type MessagingTelemetry,
  warnOnce,
} from '@baton/core';
import { type Context, diag, type Span, trace } from '@opentelemetry/api';
import { describeDelivery, SYSTEM } from './message.js';
import type { RawSettleChannel, Settler } from './settle.js';
import type { AckMode, AmqpMessage, FailureMode } from './types.js';

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

  const autoSettle = (message: AmqpMessage, succeeded: boolean): void => {
    if (settler.isSettled(message)) return;
    try {
      if (succeeded) settler.ack(message);
      else settler.nack(message, false, requeueOnFailure);
    } catch (error) {
      // The channel closed under the handler: the broker redelivers the message, and the
      // close already reached the application through amqplib's own events.
      diag.debug(
        '@baton/amqplib: could not settle a delivery; the broker will redeliver it',
        error,
      );
    }
  };

  const consume: Consumer['consume'] = (queue, onMessage, options, ...rest) => {
    if (typeof onMessage !== 'function') return channel.consume(queue, onMessage, options, ...rest);
    const noAck = (options as { noAck?: unknown } | undefined)?.noAck === true;
    const auto = config.ackMode === 'auto' && !noAck;
    // In auto mode the ack / nack is written as the handler settles, inside the process
    // span: amqplib's settles are fire-and-forget socket writes, never a broker round trip.
    const settleAfter = (message: AmqpMessage, result: unknown): unknown => {
      if (!isPromiseLike(result)) {
        autoSettle(message, true);
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          autoSettle(message, true);
          return value;
        },
        (error: unknown) => {
          autoSettle(message, false);
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
      try {
        description = describeDelivery(message, queue, timeHeader);
      } catch (error) {
        // Not shaped like an amqplib delivery: hand it over untraced, as amqplib would.
        warnOnce('amqplib delivery description', error);
        return onMessage(message);
      }
      const run = (context: Context) => {
        if (!noAck) {
          const span = trace.getSpan(context);
          settler.delivered(message, {
            queue,
            context,
            span,
            recording: span?.isRecording() === true,
          });
        }
        if (!auto) return onMessage(message);
        let result: unknown;
        try {
          result = onMessage(message);
        } catch (error) {
          autoSettle(message, false);
          throw error;
        }
        return settleAfter(message, result);
      };
      if (!auto) return telemetry.process(description, run);
      // The failure is on the process span and the message was nacked: handled.
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
  const received = (span: Span | undefined, queue: string, message: unknown): void => {
    if (message === null || typeof message !== 'object') return;
    const delivered = message as AmqpMessage;
    const description = describeDelivery(delivered, queue, timeHeader, 'receive');
    const creation = telemetry.messageContext(description);
    settler.delivered(delivered, { queue, context: creation, span: undefined, recording: false });
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
    const description = { system: SYSTEM, destination: queue, operationName: 'receive' };
    const callback = rest[0];
    if (typeof callback !== 'function') {
      return telemetry.clientOperation('receive', description, (span) => {
        const pending = channel.get(queue, options, ...rest);
        if (!isPromiseLike(pending)) return pending;
        return pending.then((message) => {
          received(span, queue, message);
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
        if (error == null) received(span, queue, message);
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
