import { type MessageDescription, readFirstHeader } from '@baton/core';
import type { Attributes } from '@opentelemetry/api';
import type { AmqpMessage } from './types.js';

export const SYSTEM = 'rabbitmq';
/** The name semconv gives the default (nameless) exchange. */
export const DEFAULT_EXCHANGE = 'amq.default';
/** The RabbitMQ message-timestamp plugin's millisecond header. */
export const DEFAULT_PUBLISH_TIME_HEADER = 'timestamp_in_ms';

export const ATTR_ROUTING_KEY = 'messaging.rabbitmq.destination.routing_key';
export const ATTR_DELIVERY_TAG = 'messaging.rabbitmq.message.delivery_tag';
export const ATTR_REDELIVERED = 'messaging.rabbitmq.message.redelivered';
export const ATTR_DEATH_COUNT = 'messaging.rabbitmq.message.death_count';
export const ATTR_DEATH_REASON = 'messaging.rabbitmq.message.first_death_reason';
export const ATTR_SETTLE_MULTIPLE = 'messaging.rabbitmq.settle.multiple';
export const ATTR_SETTLE_REQUEUE = 'messaging.rabbitmq.settle.requeue';

/** `{exchange}:{routing key}` with `amq.default` for the default exchange (semconv). */
export function publishDestination(exchange: string, routingKey: string): string {
  const name = exchange === '' ? DEFAULT_EXCHANGE : exchange;
  return routingKey === '' ? name : `${name}:${routingKey}`;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

// AMQP's `timestamp` property is whole seconds since the epoch; some producers put
// milliseconds there anyway, which a value beyond year 5138 in seconds gives away.
function propertyTimestampMs(value: unknown): number | undefined {
  const seconds = value instanceof Date ? value.getTime() / 1000 : toNumber(value);
  if (seconds === undefined || seconds <= 0) return undefined;
  return seconds > 1e11 ? seconds : seconds * 1000;
}

/** When the message was created: the ms header, else the seconds `timestamp` property. */
export function creationTimeMs(
  message: AmqpMessage,
  timeHeader: string | false,
): number | undefined {
  const headers = message.properties.headers;
  if (timeHeader && headers) {
    const raw = headers[timeHeader];
    const ms = raw === undefined ? toNumber(readFirstHeader(headers, timeHeader)) : toNumber(raw);
    if (ms !== undefined && ms > 0) return ms;
  }
  return propertyTimestampMs(message.properties.timestamp);
}

// `x-death` is RabbitMQ's dead-letter history: one entry per (queue, reason) with a count.
function deathCount(xDeath: unknown): number | undefined {
  if (!Array.isArray(xDeath)) return undefined;
  let total = 0;
  for (const entry of xDeath) {
    if (entry !== null && typeof entry === 'object') {
      total += toNumber((entry as { count?: unknown }).count) ?? 0;
    }
  }
  return total;
}

/** Span attributes of one delivery, with the established `messaging.rabbitmq.*` names. */
export function deliveryAttributes(message: AmqpMessage): Attributes {
  const { fields } = message;
  const attributes: Attributes = {
    [ATTR_DELIVERY_TAG]: fields.deliveryTag,
    [ATTR_REDELIVERED]: fields.redelivered === true,
  };
  if (fields.routingKey) attributes[ATTR_ROUTING_KEY] = fields.routingKey;
  const headers = message.properties.headers;
  if (headers) {
    const deaths = deathCount(headers['x-death']);
    if (deaths !== undefined) attributes[ATTR_DEATH_COUNT] = deaths;
    const reason = headers['x-first-death-reason'];
    if (typeof reason === 'string') attributes[ATTR_DEATH_REASON] = reason;
  }
  return attributes;
}

/** Core's description of a delivery consumed from `queue`. */
export function describeDelivery(
  message: AmqpMessage,
  queue: string,
  timeHeader: string | false,
  operationName?: string,
): MessageDescription {
  const { properties } = message;
  const headers = properties.headers;
  const description: MessageDescription = {
    system: SYSTEM,
    destination: queue,
    headers,
    attributes: deliveryAttributes(message),
  };
  if (operationName !== undefined) description.operationName = operationName;
  const messageId = properties.messageId;
  if (typeof messageId === 'string' || typeof messageId === 'number') {
    description.messageId = String(messageId);
  }
  const created = creationTimeMs(message, timeHeader);
  if (created !== undefined) description.timestampMs = created;
  // Quorum queues count deliveries; classic queues only say "redelivered".
  const deliveries = headers ? toNumber(headers['x-delivery-count']) : undefined;
  if (deliveries !== undefined) description.deliveryCount = deliveries + 1;
  return description;
}
