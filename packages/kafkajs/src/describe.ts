import type { MessageDescription, PublishDescription } from '@baton/core';
import type { Attributes, Link } from '@opentelemetry/api';
import type {
  KafkaBatchLike,
  KafkaConsumedMessageLike,
  KafkaMessageLike,
  KafkaProducerRecordLike,
} from './types.js';

/** `messaging.system` for Kafka. */
export const KAFKA_SYSTEM = 'kafka';
export const ATTR_KAFKA_OFFSET = 'messaging.kafka.offset';
export const ATTR_KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key';
export const ATTR_KAFKA_MESSAGE_TOMBSTONE = 'messaging.kafka.message.tombstone';

// `fatal`: bytes that are not UTF-8 have no canonical string form and are not replaced by
// U+FFFD; `ignoreBOM`: a leading BOM is part of the key.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The key as `messaging.kafka.message.key`: a string key, or a byte key that is valid
 * UTF-8. Semconv: "If the key has no unambiguous, canonical string form, don't include its
 * value", so other keys give `undefined`.
 */
export function keyText(key: unknown): string | undefined {
  if (typeof key === 'string') return key;
  if (!(key instanceof Uint8Array)) return undefined;
  try {
    return utf8.decode(key);
  } catch {
    return undefined;
  }
}

/** The key (when allowed and it has a string form) and tombstone attributes of a message. */
export function keyAttributes(
  message: { key?: unknown; value: unknown },
  withKey: boolean,
  attributes: Attributes = {},
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

/** How one `send <topic>` call is described. */
export interface SendShape {
  /** The application's record for this topic (`send`'s argument, a `sendBatch` entry). */
  record: KafkaProducerRecordLike;
  /** Its messages, with their own creation contexts written in when `createSpans` is on. */
  messages: readonly KafkaMessageLike[];
  withKey: boolean;
  /** Per-message create spans: the messages keep their context, the send only carries them. */
  createSpans: boolean;
  links: Link[];
}

/** One `send <topic>` call for `messages` of one topic. */
export function describeSend(shape: SendShape): PublishDescription {
  const { record, messages, links } = shape;
  const single = messages.length === 1 ? messages[0] : undefined;
  const partition = commonPartition(messages);
  return {
    system: KAFKA_SYSTEM,
    destination: record.topic,
    message: record,
    messageCount: messages.length,
    // With create spans the messages carry their creation contexts and the send only links
    // them; otherwise a message that already carries a traceparent keeps it (the user's own
    // creation context).
    ...(shape.createSpans ? { sendRole: 'transport' as const } : { preserveExistingContext: true }),
    ...(links.length > 0 && (shape.createSpans || messages.length > 1) && { links }),
    ...(single?.headers && { headers: single.headers }),
    ...(partition !== undefined && { partition }),
    ...(single && { attributes: keyAttributes(single, shape.withKey) }),
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
    message,
    headers: message.headers,
    attributes: keyAttributes(message, withKey, attributes),
    ...(consumerGroup !== undefined && { consumerGroup }),
    ...(message.timestamp !== undefined && Number.isFinite(timestampMs) && { timestampMs }),
  };
}

/** The batch itself: one `process <topic>` span for all its messages. */
export function describeBatch(
  batch: KafkaBatchLike,
  consumerGroup: string | undefined,
): MessageDescription {
  return {
    system: KAFKA_SYSTEM,
    destination: batch.topic,
    partition: batch.partition,
    message: batch,
    ...(consumerGroup !== undefined && { consumerGroup }),
  };
}
