import {
  CORRELATION_HEADER,
  extractContext,
  getCorrelationId,
  injectContext,
  type MessagingTelemetry,
  readFirstHeader,
  TRACE_PARENT_HEADER,
} from '@baton/core';
import {
  type Context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';
import { KAFKA_SYSTEM, keyAttributes } from './describe.js';
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

/**
 * One `create <topic>` span per message (core's create operation), whose context the
 * message then carries. A message with its own valid `traceparent` keeps it (and gets the
 * correlation id when it has none); every creation context is returned as a link.
 */
export function createMessages(
  telemetry: MessagingTelemetry,
  topic: string,
  messages: readonly KafkaMessageLike[],
  parent: Context,
  withKey: boolean,
): CreatedMessages {
  const links: Link[] = [];
  const propagator = telemetry.options.propagator;
  const created = messages.map((message) => {
    const existing = existingCreationLink(message);
    if (existing) {
      links.push(existing);
      if (readFirstHeader(message.headers, CORRELATION_HEADER) !== undefined) return message;
      return {
        ...message,
        headers: { ...message.headers, [CORRELATION_HEADER]: getCorrelationId(parent) },
      };
    }
    const ctx = telemetry.createContext(
      {
        system: KAFKA_SYSTEM,
        destination: topic,
        message,
        attributes: keyAttributes(message, withKey),
        ...(message.partition !== undefined && { partition: message.partition }),
      },
      parent,
    );
    const spanContext = trace.getSpanContext(ctx);
    if (spanContext) links.push({ context: spanContext });
    const headers = injectContext(message.headers ?? undefined, ctx, {
      ...(propagator && { propagator }),
    });
    return { ...message, headers };
  });
  return { messages: created, links };
}
