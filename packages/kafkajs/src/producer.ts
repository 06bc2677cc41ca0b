import {
  activeContext,
  type Coexistence,
  createCorrelationId,
  getCorrelationId,
  MessagingTelemetry,
  type Override,
  runWithContext,
  setCorrelationId,
  viewOf,
} from '@baton/core';
import type { Context, Link } from '@opentelemetry/api';
import { clientCall } from './coexistence.js';
import { createMessages, existingCreationLink } from './create-spans.js';
import { describeSend } from './describe.js';
import { type ProducerSettings, resolveProducerSettings } from './options.js';
import { SCOPE } from './scope.js';
import type {
  KafkaMessageLike,
  KafkaProducerBatchLike,
  KafkaProducerLike,
  KafkaProducerOptions,
  KafkaProducerRecordLike,
  KafkaSenderLike,
} from './types.js';

interface Producing extends ProducerSettings {
  telemetry: MessagingTelemetry;
}

function withCorrelation(ctx: Context): Context {
  return getCorrelationId(ctx) === undefined ? setCorrelationId(ctx, createCorrelationId()) : ctx;
}

// One `send <topic>` span per topic of the call. The spans are siblings (all children of
// the caller's context) and all end when the one client call settles, so each topic's
// messages carry their own topic's send context and `messaging.destination.name` stays
// exact. Most calls have one topic, hence one span.
function publishTopics<R>(
  settings: Producing,
  topics: readonly KafkaProducerRecordLike[],
  contrib: boolean,
  call: (messagesByTopic: KafkaMessageLike[][]) => R,
): R {
  const { telemetry } = settings;
  // Contrib's wrapper makes one send span per message: create spans would be a second.
  const createSpans = settings.createSpans && !contrib;
  // Several spans must share the caller's context and one correlation id; a single span
  // (the common case) gets both from core directly.
  const shared = topics.length > 1 || createSpans;
  const parent = shared ? withCorrelation(activeContext()) : undefined;
  const injected: KafkaMessageLike[][] = [];
  const step = (index: number): R => {
    const record = topics[index];
    if (record === undefined) return call(injected);
    let messages: readonly KafkaMessageLike[] = record.messages;
    let links: Link[] = [];
    let created = false;
    try {
      if (createSpans) {
        ({ messages, links } = createMessages(
          telemetry,
          record.topic,
          messages,
          parent ?? activeContext(),
          settings.messageKeyAttribute,
        ));
        created = true;
      } else if (messages.length > 1) {
        for (const message of messages) {
          const link = existingCreationLink(message);
          if (link) links.push(link);
        }
      }
    } catch (error) {
      telemetry.diagnostics.warnOnce('message creation contexts', error);
    }
    // A single message's own traceparent is linked by core (preserveExistingContext).
    const description = describeSend({
      record,
      messages,
      links,
      withKey: settings.messageKeyAttribute,
      // Without their create contexts (a telemetry failure) the send creates the messages.
      createSpans: created,
    });
    if (contrib) description.recordedByContrib = 'span-and-metrics';
    const publish = () =>
      telemetry.publish(description, (headers, inject) => {
        injected[index] =
          messages.length === 1 && messages[0]
            ? [{ ...messages[0], headers }]
            : messages.map((message) => ({ ...message, headers: inject(message.headers) }));
        return step(index + 1);
      });
    return parent ? runWithContext(parent, publish) : publish();
  };
  return step(0);
}

function tracedSend(target: KafkaSenderLike, settings: Producing, fixed?: Coexistence) {
  return (record: KafkaProducerRecordLike, ...rest: unknown[]) => {
    const { owner, fn: send, contrib } = clientCall(settings.telemetry, target, 'send', fixed);
    if (!record || typeof record !== 'object' || !Array.isArray(record.messages)) {
      return send.call(owner, record, ...rest); // let the client report the bad argument
    }
    return publishTopics(settings, [record], contrib, ([messages]) =>
      send.call(owner, { ...record, messages }, ...rest),
    );
  };
}

function tracedSendBatch(target: KafkaSenderLike, settings: Producing, fixed?: Coexistence) {
  return (batch: KafkaProducerBatchLike, ...rest: unknown[]) => {
    const call = clientCall(settings.telemetry, target, 'sendBatch', fixed);
    const { owner, fn: sendBatch } = call;
    const topics = batch?.topicMessages;
    if (
      !Array.isArray(topics) ||
      !topics.every((t) => t && typeof t === 'object' && Array.isArray(t.messages))
    ) {
      return sendBatch.call(owner, batch, ...rest);
    }
    return publishTopics(settings, topics, call.contrib, (messagesByTopic) =>
      sendBatch.call(
        owner,
        {
          ...batch,
          topicMessages: topics.map((t, i) => ({ ...t, messages: messagesByTopic[i] })),
        },
        ...rest,
      ),
    );
  };
}

function wrapSender<S extends KafkaSenderLike>(
  sender: S,
  settings: Producing,
  extra: Record<string, Override> = {},
  fixed?: Coexistence,
): S {
  return viewOf(sender, {
    send: tracedSend(sender, settings, fixed),
    sendBatch: tracedSendBatch(sender, settings, fixed),
    ...extra,
  });
}

/**
 * Returns a traced view of a kafkajs producer, of the same type: `send`, `sendBatch` and
 * the sends of its transactions each run in one `send <topic>` PRODUCER span whose context
 * (with baggage and `x-correlation-id`) is written into a copy of every message's headers.
 * With `createSpans`, each message gets its own `create <topic>` span instead and the send
 * is a CLIENT span linked to them. Everything else is the producer's own. The producer
 * itself is not modified.
 *
 * @example
 * const producer = traceProducer(kafka.producer());
 * await producer.send({ topic: 'user.created', messages: [{ value: JSON.stringify(user) }] });
 */
export function traceProducer<P extends KafkaProducerLike>(
  producer: P,
  options?: KafkaProducerOptions,
): P {
  const telemetry = new MessagingTelemetry(SCOPE, options);
  const settings: Producing = { telemetry, ...resolveProducerSettings(options) };
  const extra: Record<string, Override> = {};
  if (typeof producer.transaction === 'function') {
    extra.transaction = async (...args: unknown[]) => {
      const { owner, fn, contrib } = clientCall(telemetry, producer, 'transaction');
      const started = (await fn.apply(owner, args)) as KafkaSenderLike;
      if (!started || typeof started !== 'object') return started;
      return wrapSender(started, settings, {}, contrib ? 'contrib' : undefined);
    };
  }
  return wrapSender(producer, settings, extra);
}
