import { type MessageDescription, readFirstHeader } from '@baton/core';
import type { Attributes } from '@opentelemetry/api';
import type { AmqpMessage } from './types.js';

export const SYSTEM = 'rabbitmq';
/** The name semconv gives the default (nameless) exchange. */
export const DEFAULT_EXCHANGE = 'amq.default';
/** The RabbitMQ message-timestamp plugin's millisecond header. */
export const DEFAULT_PUBLISH_TIME_HEADER = 'timestamp_in_ms';

/** Semconv: the routing key a message was published with, when not empty. */
export const ATTR_ROUTING_KEY = 'messaging.rabbitmq.destination.routing_key';
/** Semconv: the delivery tag of a consumed message. */
export const ATTR_DELIVERY_TAG = 'messaging.rabbitmq.message.delivery_tag';
/** Baton's own (semconv has none): AMQP's `redelivered` flag. */
export const ATTR_REDELIVERED = 'baton.rabbitmq.message.redelivered';
/** Baton's own: how often the message was dead-lettered (the sum of its `x-death` counts). */
export const ATTR_DEATH_COUNT = 'baton.rabbitmq.message.death_count';
/** Baton's own: why it was first dead-lettered (`x-first-death-reason`). */
export const ATTR_DEATH_REASON = 'baton.rabbitmq.message.first_death_reason';
/** Baton's own: an ack / nack of every delivery up to this one (`allUpTo`, `ackAll`, `nackAll`). */
export const ATTR_SETTLE_MULTIPLE = 'baton.rabbitmq.settle.multiple';
/** Baton's own: whether a nack / reject requeues. */
export const ATTR_SETTLE_REQUEUE = 'baton.rabbitmq.settle.requeue';

/**
 * The semconv name of a publish: `{exchange}:{routing key}`, either one alone when the
 * other is empty, `amq.default` when both are. So `sendToQueue('q')` (the default exchange,
 * routing key `q`) sends to `q`.
 */
export function publishDestination(exchange: string, routingKey: string): string {
  if (exchange === '') return routingKey === '' ? DEFAULT_EXCHANGE : routingKey;
  return routingKey === '' ? exchange : `${exchange}:${routingKey}`;
}

/**
 * The semconv name of a delivery from `queue`: `{exchange}:{routing key}:{queue}`, empty
 * parts left out, and the routing key once when it is the queue's own name (the default
 * exchange routes by queue name). `queue` may be empty when it is not known.
 */
export function consumeDestination(exchange: string, routingKey: string, queue: string): string {
  const key = routingKey === queue ? '' : routingKey;
  if (exchange === '' && key === '') return queue === '' ? DEFAULT_EXCHANGE : queue;
  const head = exchange === '' ? key : key === '' ? exchange : `${exchange}:${key}`;
  return queue === '' ? head : `${head}:${queue}`;
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

/** Span attributes of one delivery (semconv's established `messaging.rabbitmq.*` names, and Baton's). */
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

/** Where a delivery was consumed and how to describe it. */
export interface DeliveryContext {
  /** The queue consumed; empty when unknown (`traceHandler` without `queue`). */
  queue: string;
  /** The publish-time header to read (see `publishTimeHeader`). */
  timeHeader: string | false;
  /** `receive` for a `get`; the default is `process`. */
  operationName?: string;
  /** This delivery's number when known (the broker's, or Baton's own on classic queues). */
  deliveryCount?: number;
  /** The broker the channel is connected to. */
  server?: ServerAddress;
}

/** `server.address` / `server.port` of a channel's connection. */
export interface ServerAddress {
  serverAddress?: string;
  serverPort?: number;
}

/** Copies `server.address` / `server.port`, when known, onto a description. */
export function withServer<D extends MessageDescription>(
  description: D,
  server: ServerAddress | undefined,
): D {
  if (server?.serverAddress !== undefined) description.serverAddress = server.serverAddress;
  if (server?.serverPort !== undefined) description.serverPort = server.serverPort;
  return description;
}

/** Core's description of a delivery (`message` is amqplib's own object, for hooks). */
export function describeDelivery(message: AmqpMessage, at: DeliveryContext): MessageDescription {
  const { fields, properties } = message;
  const headers = ownHeaders(properties.headers);
  const description: MessageDescription = {
    system: SYSTEM,
    destination: consumeDestination(fields.exchange, fields.routingKey, at.queue),
    // The name its producer's metrics carry: the service map joins the two sides on it.
    publishedDestination: publishDestination(fields.exchange, fields.routingKey),
    headers,
    message,
    attributes: deliveryAttributes(fields, headers),
  };
  if (at.operationName !== undefined) description.operationName = at.operationName;
  const messageId = properties.messageId;
  if (typeof messageId === 'string' || typeof messageId === 'number') {
    description.messageId = String(messageId);
  }
  const conversationId = properties.correlationId;
  if (typeof conversationId === 'string' && conversationId !== '') {
    description.conversationId = conversationId;
  }
  const created = creationTimeMs(message, at.timeHeader, headers);
  if (created !== undefined) description.timestampMs = created;
  const deliveries = at.deliveryCount ?? brokerDeliveryCount(headers);
  if (deliveries !== undefined) description.deliveryCount = deliveries;
  return withServer(description, at.server);
}
