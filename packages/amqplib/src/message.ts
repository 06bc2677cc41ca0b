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

type Headers = Record<string, unknown>;

/**
 * The message's OWN headers. amqplib decodes a header table named `__proto__` into the
 * headers object's prototype, so a plain read would find keys the message does not carry
 * (a stranger's `traceparent`, `x-delivery-count`, ...). Such an object is read through a
 * copy of its own keys; an ordinary one is used as it is (no copy on the hot path).
 */
export function ownHeaders(headers: unknown): Headers | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const prototype: unknown = Object.getPrototypeOf(headers);
  if (prototype === Object.prototype || prototype === null) return headers as Headers;
  const own: Headers = Object.create(null) as Headers;
  for (const key of Object.keys(headers)) own[key] = (headers as Headers)[key];
  return own;
}

/** One own property of a decoded AMQP table (tables nest: `x-death` entries are tables). */
function own(table: unknown, key: string): unknown {
  return table !== null && typeof table === 'object' && Object.hasOwn(table, key)
    ? (table as Headers)[key]
    : undefined;
}

/** When the message was created: the ms header, else the seconds `timestamp` property. */
export function creationTimeMs(
  message: AmqpMessage,
  timeHeader: string | false,
  headers = ownHeaders(message.properties.headers),
): number | undefined {
  if (timeHeader && headers) {
    const raw = own(headers, timeHeader);
    const ms = raw === undefined ? toNumber(readFirstHeader(headers, timeHeader)) : toNumber(raw);
    if (ms !== undefined && ms > 0) return ms;
  }
  return propertyTimestampMs(message.properties.timestamp);
}

// `x-death` is RabbitMQ's dead-letter history: one entry per (queue, reason) with a count.
function deathCount(xDeath: unknown): number | undefined {
  if (!Array.isArray(xDeath)) return undefined;
  let total = 0;
  for (const entry of xDeath) total += toNumber(own(entry, 'count')) ?? 0;
  return total;
}

function countOf(value: unknown): number | undefined {
  const n = toNumber(value);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The broker's count of this delivery (1 for the first), where it keeps one: quorum queues
 * add `x-delivery-count` (earlier deliveries; from RabbitMQ 4.3 failed ones only, with
 * `x-acquired-count` counting every earlier delivery). Classic queues keep none.
 */
export function brokerDeliveryCount(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const delivered = countOf(own(headers, 'x-delivery-count'));
  const acquired = countOf(own(headers, 'x-acquired-count'));
  if (delivered === undefined && acquired === undefined) return undefined;
  return Math.max(delivered ?? 0, acquired ?? 0) + 1;
}

/** Span attributes of one delivery, with the established `messaging.rabbitmq.*` names. */
export function deliveryAttributes(
  fields: AmqpMessage['fields'],
  headers: Headers | undefined,
): Attributes {
  const attributes: Attributes = {
    [ATTR_DELIVERY_TAG]: fields.deliveryTag,
    [ATTR_REDELIVERED]: fields.redelivered === true,
  };
  if (fields.routingKey) attributes[ATTR_ROUTING_KEY] = fields.routingKey;
  if (headers) {
    const deaths = deathCount(own(headers, 'x-death'));
    if (deaths !== undefined) attributes[ATTR_DEATH_COUNT] = deaths;
    const reason = own(headers, 'x-first-death-reason');
    if (typeof reason === 'string') attributes[ATTR_DEATH_REASON] = reason;
  }
  return attributes;
}

/**
 * Core's description of a delivery consumed from `queue`. `deliveryCount` is this
 * delivery's number when known (the broker's, or Baton's own for classic queues).
 */
export function describeDelivery(
  message: AmqpMessage,
  queue: string,
  timeHeader: string | false,
  operationName?: string,
  deliveryCount?: number,
): MessageDescription {
  const { properties } = message;
  const headers = ownHeaders(properties.headers);
  const description: MessageDescription = {
    system: SYSTEM,
    destination: queue,
    headers,
    attributes: deliveryAttributes(message.fields, headers),
  };
  if (operationName !== undefined) description.operationName = operationName;
  const messageId = properties.messageId;
  if (typeof messageId === 'string' || typeof messageId === 'number') {
    description.messageId = String(messageId);
  }
  const created = creationTimeMs(message, timeHeader, headers);
  if (created !== undefined) description.timestampMs = created;
  const deliveries = deliveryCount ?? brokerDeliveryCount(headers);
  if (deliveries !== undefined) description.deliveryCount = deliveries;
  return description;
}
