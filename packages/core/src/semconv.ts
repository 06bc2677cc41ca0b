import type { Attributes } from '@opentelemetry/api';

/**
 * Which messaging attribute names to emit, per the semantic conventions' migration rule
 * (`OTEL_SEMCONV_STABILITY_OPT_IN`): `'old'` the established names (default), `'stable'`
 * only the new ones (`messaging`), `'dup'` both (`messaging/dup`).
 */
export type SemconvStability = 'old' | 'stable' | 'dup';

export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_SYSTEM_NAME = 'messaging.system.name';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id';
export const ATTR_MESSAGING_DESTINATION_TEMPLATE = 'messaging.destination.template';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_MESSAGE_CONVERSATION_ID = 'messaging.message.conversation_id';
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
/** Baton's own: how many times this message has been delivered (1 = first delivery). */
export const ATTR_BATON_DELIVERY_COUNT = 'baton.message.delivery_count';
/**
 * Baton's own: the correlation id (`x-correlation-id`) the message or request carries, on
 * every bus. Semconv's `messaging.message.conversation_id` is left to the bus's own
 * conversation id (AMQP `correlationId`).
 */
export const ATTR_BATON_CORRELATION_ID = 'baton.correlation_id';
/**
 * Baton's own, on consumer metrics: the destination as its producer named it, where the bus
 * names the consumer's side differently (RabbitMQ: `{exchange}:{routing key}` of a delivery
 * from `{exchange}:{routing key}:{queue}`), its template when there is one. The service
 * map joins producers and consumers on it.
 */
export const ATTR_BATON_DESTINATION_PUBLISHED_NAME = 'baton.destination.published_name';

/** Reads `OTEL_SEMCONV_STABILITY_OPT_IN` (comma separated) for the `messaging` domain. */
export function semconvStabilityFromEnv(
  value: string | undefined = globalThis.process?.env?.OTEL_SEMCONV_STABILITY_OPT_IN,
): SemconvStability {
  if (!value) return 'old';
  const tokens = value.split(',').map((token) => token.trim());
  if (tokens.includes('messaging/dup')) return 'dup';
  if (tokens.includes('messaging')) return 'stable';
  return 'old';
}

// Semconv 1.45 renames: messaging.system -> messaging.system.name,
// messaging.kafka.* -> kafka.*, messaging.rabbitmq.* -> rabbitmq.*.
function stableName(key: string): string | undefined {
  if (key === ATTR_MESSAGING_SYSTEM) return ATTR_MESSAGING_SYSTEM_NAME;
  if (key.startsWith('messaging.kafka.')) return key.slice('messaging.'.length);
  if (key.startsWith('messaging.rabbitmq.')) return key.slice('messaging.'.length);
  return undefined;
}

/**
 * Rewrites attributes written with the established names into the names the stability
 * mode asks for. Adapters always write the established names; this is the one place that
 * knows the migration. Returns the same object when nothing needs renaming.
 */
export function applySemconvStability(attributes: Attributes, mode: SemconvStability): Attributes {
  if (mode === 'old') return attributes;
  let renamed: Attributes | undefined;
  for (const key in attributes) {
    const next = stableName(key);
    if (next === undefined) continue;
    renamed ??= { ...attributes };
    renamed[next] = attributes[key];
    if (mode === 'stable') delete renamed[key];
  }
  return renamed ?? attributes;
}
