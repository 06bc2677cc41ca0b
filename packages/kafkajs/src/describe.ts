import type { MessageDescription, PublishDescription } from '@baton/core';
import type { Attributes } from '@opentelemetry/api';
import type { KafkaConsumedMessageLike, KafkaMessageLike } from './types.js';

/** `messaging.system` for Kafka. */
export const KAFKA_SYSTEM = 'kafka';
export const ATTR_KAFKA_OFFSET = 'messaging.kafka.offset';
export const ATTR_KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key';
export const ATTR_KAFKA_MESSAGE_TOMBSTONE = 'messaging.kafka.message.tombstone';

const decoder = new TextDecoder();

// Semconv: "If the key type is not string, its string representation has to be supplied".
function keyText(key: unknown): string | undefined {
  if (typeof key === 'string') return key;
  if (key instanceof Uint8Array) return decoder.decode(key);
  return undefined;
}

function keyAttributes(
  message: { key?: unknown; value: unknown },
  withKey: boolean,
  attributes: Attributes,
): Attributes {
  const key = withKey ? keyText(message.key) : undefined;
  if (key !== undefined) attributes[ATTR_KAFKA_MESSAGE_KEY] = key;
  if (message.value === null) attributes[ATTR_KAFKA_MESSAGE_TOMBSTONE] = true;
  return attributes;
}

// The partition of a send when every message names the same one; else none.
function commonPartition(messages: readonly KafkaMessageLike[]): number | undefined {
  const first = messages[0]?.partition;
  if (first === undefined) return undefined;
  return messages.every((message) => message.partition === first) ? first : undefined;
}

/** One `send <topic>` call for `messages` of one topic. */
export function describeSend(
  topic: string,
  messages: readonly KafkaMessageLike[],
): PublishDescription {
  const single = messages.length === 1 ? messages[0] : undefined;
  const partition = commonPartition(messages);
  return {
    system: KAFKA_SYSTEM,
    destination: topic,
    messageCount: messages.length,
    // A message that already carries a traceparent keeps it: it is the user's creation context.
    preserveExistingContext: true,
    ...(single?.headers && { headers: single.headers }),
    ...(partition !== undefined && { partition }),
    ...(single && { attributes: keyAttributes(single, true, {}) }),
  };
}

/** A consumed message, for `process` spans and batch links. */
export function describeConsumed(
  topic: string,
  partition: number,
  message: KafkaConsumedMessageLike,
  consumerGroup: string | undefined,
  withKey: boolean,
): MessageDescription {
  const timestampMs = Number(message.timestamp);
  const offset = Number(message.offset);
  const attributes: Attributes = {};
  if (Number.isSafeInteger(offset)) attributes[ATTR_KAFKA_OFFSET] = offset;
  return {
    system: KAFKA_SYSTEM,
    destination: topic,
    partition,
    headers: message.headers,
    attributes: keyAttributes(message, withKey, attributes),
    ...(consumerGroup !== undefined && { consumerGroup }),
    ...(message.timestamp !== undefined && Number.isFinite(timestampMs) && { timestampMs }),
  };
}

/** The batch itself: one `process <topic>` span for all its messages. */
export function describeBatch(
  topic: string,
  partition: number,
  consumerGroup: string | undefined,
): MessageDescription {
  return {
    system: KAFKA_SYSTEM,
    destination: topic,
    partition,
    ...(consumerGroup !== undefined && { consumerGroup }),
  };
}
