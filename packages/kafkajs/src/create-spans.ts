import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  applySemconvStability,
  extractContext,
  getCorrelationId,
  injectContext,
  type MessagingTelemetry,
  readFirstHeader,
  TRACE_PARENT_HEADER,
} from '@baton/core';
import {
  type Attributes,
  type Context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { ATTR_KAFKA_MESSAGE_KEY, KAFKA_SYSTEM } from './describe.js';
import type { KafkaMessageLike } from './types.js';

/** Messages with their own creation context written in, and links to those contexts. */
export interface CreatedMessages {
  messages: KafkaMessageLike[];
  links: Link[];
}

/** The creation context a message already carries (a valid `traceparent`), as a link. */
export function existingCreationLink(message: KafkaMessageLike): Link | undefined {
  if (!message.headers || readFirstHeader(message.headers, TRACE_PARENT_HEADER) === undefined) {
    return undefined;
  }
  const spanContext = trace.getSpanContext(extractContext(message.headers, ROOT_CONTEXT));
  return spanContext && isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

// Core has no `create` operation yet, so the adapter starts semconv create spans itself
// (https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/#operation-types):
// one per message, ended at once, whose context the message carries.
export function createMessages(
  telemetry: MessagingTelemetry,
  topic: string,
  messages: readonly KafkaMessageLike[],
  parent: Context,
): CreatedMessages {
  const links: Link[] = [];
  const created = messages.map((message) => {
    const existing = existingCreationLink(message);
    if (existing) {
      links.push(existing);
      return message; // the user's own creation context wins
    }
    const attributes: Attributes = {
      [ATTR_MESSAGING_SYSTEM]: KAFKA_SYSTEM,
      [ATTR_MESSAGING_OPERATION_NAME]: 'create',
      [ATTR_MESSAGING_OPERATION_TYPE]: 'create',
      [ATTR_MESSAGING_DESTINATION_NAME]: topic,
    };
    const correlationId = getCorrelationId(parent);
    if (correlationId !== undefined) {
      attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID] = correlationId;
    }
    if (message.partition !== undefined) {
      attributes[ATTR_MESSAGING_DESTINATION_PARTITION_ID] = String(message.partition);
    }
    if (typeof message.key === 'string') attributes[ATTR_KAFKA_MESSAGE_KEY] = message.key;
    const span = telemetry.tracer.startSpan(
      `create ${topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: applySemconvStability(attributes, telemetry.options.semconvStability),
      },
      parent,
    );
    span.end();
    links.push({ context: span.spanContext() });
    const headers = injectContext(message.headers ?? undefined, trace.setSpan(parent, span), {
      ...(telemetry.options.propagator && { propagator: telemetry.options.propagator }),
    });
    return { ...message, headers };
  });
  return { messages: created, links };
}
