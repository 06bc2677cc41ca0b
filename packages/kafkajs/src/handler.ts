import { type MessageDescription, MessagingTelemetry } from '@baton/core';
import { registerBatchScope } from './batch-scope.js';
import { describeBatch, describeConsumed } from './describe.js';
import { resolveHandlerSettings } from './options.js';
import { SCOPE } from './scope.js';
import type {
  KafkaEachBatchPayloadLike,
  KafkaEachMessagePayloadLike,
  KafkaHandlerOptions,
} from './types.js';

type Handler<P> = (this: unknown, payload: P) => Promise<void>;

/** What traced handlers of one consumer (or one {@link traceHandler} call) share. */
export interface Handling {
  telemetry: MessagingTelemetry;
  /** Contrib's wrapper of `run` records the process spans and their metrics ('contrib'). */
  contrib?: boolean;
  messageKeyAttribute: boolean;
  /** The consumer group now (it may be learned after the handlers were wrapped). */
  consumerGroup(): string | undefined;
  /** Told about every batch (lag), before the handler runs. */
  onBatch?(topic: string, partition: number, highWatermark: string, lastOffset: string): void;
  onTopic?(topic: string): void;
}

/**
 * Wraps an eachMessage handler: each call runs in a `process <topic>` span whose parent is
 * the message's creation context. The payload is kafkajs's own object, and the handler's
 * result and errors pass through unchanged.
 */
export function traceEachMessage<P extends KafkaEachMessagePayloadLike>(
  handling: Handling,
  handler: Handler<P>,
): Handler<P> {
  return function tracedEachMessage(this: unknown, payload: P) {
    let description: MessageDescription;
    try {
      const { topic, partition, message } = payload;
      description = describeConsumed(
        topic,
        partition,
        message,
        handling.consumerGroup(),
        handling.messageKeyAttribute,
      );
      handling.onTopic?.(topic);
      if (handling.contrib) description.recordedByContrib = 'span-and-metrics';
    } catch (error) {
      handling.telemetry.diagnostics.warnOnce('eachMessage telemetry', error);
      return handler.call(this, payload);
    }
    return handling.telemetry.process(description, () => handler.call(this, payload));
  };
}

/**
 * Wraps an eachBatch handler: each call runs in one `process <topic>` span linked to every
 * message's creation context, and `runInMessageContext(message, fn)` reaches each
 * message's own context.
 */
export function traceEachBatch<P extends KafkaEachBatchPayloadLike>(
  handling: Handling,
  handler: Handler<P>,
): Handler<P> {
  return function tracedEachBatch(this: unknown, payload: P) {
    let batchDescription: MessageDescription;
    let descriptions: MessageDescription[];
    try {
      const { batch } = payload;
      const { topic, partition, messages } = batch;
      const group = handling.consumerGroup();
      const withKey = handling.messageKeyAttribute;
      descriptions = messages.map((m) => describeConsumed(topic, partition, m, group, withKey));
      batchDescription = describeBatch(batch, group);
      if (handling.contrib) batchDescription.recordedByContrib = 'span-and-metrics';
      const last = messages[messages.length - 1];
      if (last) handling.onBatch?.(topic, partition, batch.highWatermark, last.offset);
    } catch (error) {
      handling.telemetry.diagnostics.warnOnce('eachBatch telemetry', error);
      return handler.call(this, payload);
    }
    return handling.telemetry.processBatch(batchDescription, descriptions, (scope) => {
      registerBatchScope(payload, payload.batch.messages, scope);
      return handler.call(this, payload);
    });
  };
}

/**
 * Wraps one kafkajs `eachMessage` handler, for a consumer you run yourself without
 * {@link traceConsumer}: each call runs in a `process <topic>` span that continues the
 * producer's trace. Returns a function of the same type; the handler's errors reach kafkajs
 * unchanged. kafkajs does not expose the group on the payload: name it with
 * `consumerGroup`.
 *
 * @example
 * await consumer.run({ eachMessage: traceHandler(handle, { consumerGroup: 'mailer' }) });
 */
export function traceHandler<P extends KafkaEachMessagePayloadLike>(
  handler: (payload: P) => Promise<void>,
  options?: KafkaHandlerOptions,
): (payload: P) => Promise<void> {
  const settings = resolveHandlerSettings(options);
  return traceEachMessage<P>(
    {
      telemetry: new MessagingTelemetry(SCOPE, options),
      messageKeyAttribute: settings.messageKeyAttribute,
      consumerGroup: () => settings.consumerGroup,
    },
    handler,
  );
}
