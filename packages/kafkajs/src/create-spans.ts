import {
  extractContext,
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

/** One `create <topic>` span per message (core's create operation), whose context it carries. */
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
    const ctx = telemetry.createContext(
      {
        system: KAFKA_SYSTEM,
        destination: topic,
        ...(message.partition !== undefined && { partition: message.partition }),
        ...(typeof message.key === 'string' && {
          attributes: { [ATTR_KAFKA_MESSAGE_KEY]: message.key },
        }),
      },
      parent,
    );
    const spanContext = trace.getSpanContext(ctx);
    if (spanContext) links.push({ context: spanContext });
    const headers = injectContext(message.headers ?? undefined, ctx, {
      ...(telemetry.options.propagator && { propagator: telemetry.options.propagator }),
    });
    return { ...message, headers };
  });
  return { messages: created, links };
}
