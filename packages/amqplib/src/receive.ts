import {
  ATTR_BATON_DELIVERY_COUNT,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  applySemconvStability,
  type MessagingTelemetry,
  type NamedOperation,
} from '@baton/core';
import { type Span, trace } from '@opentelemetry/api';
import { isPromiseLike, type RawConsumerChannel } from './consumer.js';
import { describeDelivery, type ServerAddress, SYSTEM, withServer } from './message.js';
import type { Settler } from './settle.js';
import type { AmqpMessage } from './types.js';

type Callback = (...args: unknown[]) => unknown;

export interface ReceiveConfig {
  telemetry: MessagingTelemetry;
  settler: Settler;
  timeHeader: string | false;
  server: () => ServerAddress | undefined;
  /** A `get` on `queue` returned (a message or none). */
  onReceive(queue: string): void;
}

/** Traced `get`, with amqplib's signature and return value. */
export type Get = (queue: string, options?: unknown, ...rest: unknown[]) => unknown;

const ignore = () => {};

/**
 * `get` in a `receive <queue>` CLIENT span. The destination is the queue: the message, and
 * with it its exchange and routing key, is unknown when the operation starts, and an empty
 * `get` has none. A message that comes back counts as consumed (no process span will count
 * it), gets its attributes and a link to its producer on the span, and its settles join the
 * message's trace.
 */
export function createReceive(channel: RawConsumerChannel, config: ReceiveConfig): Get {
  const { telemetry, settler, timeHeader } = config;

  const received = (
    span: Span | undefined,
    operation: NamedOperation,
    message: unknown,
    noAck: boolean,
  ): void => {
    const queue = operation.destination;
    config.onReceive(queue);
    if (message === null || typeof message !== 'object') return;
    telemetry.diagnostics.guard('receive telemetry', () => {
      const delivered = message as AmqpMessage;
      const description = describeDelivery(delivered, {
        queue,
        timeHeader,
        operationName: 'receive',
      });
      const creation = telemetry.messageContext(description);
      // A noAck get is settled by the broker: a record would never be removed.
      if (!noAck) {
        settler.delivered(delivered, {
          queue,
          destination: queue,
          context: creation,
          span: undefined,
          recording: false,
        });
      }
      telemetry.recordConsumed(operation, 1, span ? trace.setSpan(creation, span) : creation);
      if (!span) return;
      const attributes = { ...description.attributes };
      if (description.messageId !== undefined) {
        attributes[ATTR_MESSAGING_MESSAGE_ID] = description.messageId;
      }
      if (description.conversationId !== undefined) {
        attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID] = description.conversationId;
      }
      if (description.deliveryCount !== undefined) {
        attributes[ATTR_BATON_DELIVERY_COUNT] = description.deliveryCount;
      }
      span.setAttributes(applySemconvStability(attributes, telemetry.options.semconvStability));
      const producer = trace.getSpanContext(creation);
      if (producer) span.addLink({ context: producer });
    });
  };

  return (queue, options, ...rest) => {
    const noAck = (options as { noAck?: unknown } | undefined)?.noAck === true;
    const operation = withServer<NamedOperation>(
      { system: SYSTEM, destination: queue, operationName: 'receive' },
      config.server(),
    );
    const callback = rest[0];
    if (typeof callback !== 'function') {
      return telemetry.clientOperation('receive', operation, (span) => {
        const pending = channel.get(queue, options, ...rest);
        if (!isPromiseLike(pending)) return pending;
        return pending.then((message) => {
          received(span, operation, message, noAck);
          return message;
        });
      });
    }
    // Callback API: the span ends when the reply arrives; the caller gets get()'s value.
    let returned: unknown;
    const replied = telemetry.clientOperation('receive', operation, (span) => {
      let settle: (error: unknown) => void = ignore;
      const outcome = new Promise<void>((resolve, reject) => {
        settle = (error) => (error == null ? resolve() : reject(error));
      });
      returned = channel.get(queue, options, (error: unknown, message: unknown) => {
        if (error == null) received(span, operation, message, noAck);
        settle(error);
        return (callback as Callback)(error, message);
      });
      return outcome;
    });
    replied.then(ignore, ignore);
    return returned;
  };
}
