import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_BATON_DELIVERY_COUNT,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  applySemconvStability,
  type SemconvStability,
} from './semconv.js';
import type { MessageDescription } from './types.js';

/** `messaging.operation.type` values. */
export type OperationType = 'create' | 'send' | 'receive' | 'process' | 'settle';

/** Low-cardinality attributes shared by spans and metrics. */
export function metricAttributes(
  description: MessageDescription,
  operationName: string,
  stability: SemconvStability,
): Attributes {
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: description.system,
    [ATTR_MESSAGING_OPERATION_NAME]: operationName,
    [ATTR_MESSAGING_DESTINATION_NAME]: description.destination,
  };
  if (description.partition !== undefined) {
    attributes[ATTR_MESSAGING_DESTINATION_PARTITION_ID] = String(description.partition);
  }
  if (description.consumerGroup !== undefined) {
    attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = description.consumerGroup;
  }
  if (description.serverAddress !== undefined) {
    attributes[ATTR_SERVER_ADDRESS] = description.serverAddress;
  }
  if (description.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = description.serverPort;
  return applySemconvStability(attributes, stability);
}

/** Span attributes: the metric ones plus the per-message ones. */
export function spanAttributes(
  description: MessageDescription,
  operationName: string,
  operationType: OperationType,
  stability: SemconvStability,
  correlationId: string | undefined,
  messageCount?: number,
): Attributes {
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: description.system,
    [ATTR_MESSAGING_OPERATION_NAME]: operationName,
    [ATTR_MESSAGING_OPERATION_TYPE]: operationType,
    [ATTR_MESSAGING_DESTINATION_NAME]: description.destination,
    ...description.attributes,
  };
  if (description.partition !== undefined) {
    attributes[ATTR_MESSAGING_DESTINATION_PARTITION_ID] = String(description.partition);
  }
  if (description.consumerGroup !== undefined) {
    attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = description.consumerGroup;
  }
  if (description.messageId !== undefined) {
    attributes[ATTR_MESSAGING_MESSAGE_ID] = description.messageId;
  }
  if (correlationId !== undefined) {
    attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID] = correlationId;
  }
  if (description.deliveryCount !== undefined) {
    attributes[ATTR_BATON_DELIVERY_COUNT] = description.deliveryCount;
  }
  if (messageCount !== undefined) attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = messageCount;
  if (description.serverAddress !== undefined) {
    attributes[ATTR_SERVER_ADDRESS] = description.serverAddress;
  }
  if (description.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = description.serverPort;
  return applySemconvStability(attributes, stability);
}

/**
 * `error.type` for a thrown value: the error's class name (bounded by the code base, unlike
 * messages), or `'_OTHER'` for non-errors, as semconv asks.
 */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor?.name || error.name || 'Error';
  return '_OTHER';
}
