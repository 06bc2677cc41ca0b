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

const MAX_CACHED = 1024;

function lowCardinality(
  description: MessageDescription,
  operationName: string,
  operationType: OperationType | undefined,
  stability: SemconvStability,
): Attributes {
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: description.system,
    [ATTR_MESSAGING_OPERATION_NAME]: operationName,
    [ATTR_MESSAGING_DESTINATION_NAME]: description.destination,
  };
  if (operationType !== undefined) attributes[ATTR_MESSAGING_OPERATION_TYPE] = operationType;
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
  return Object.freeze(applySemconvStability(attributes, stability));
}

/**
 * The low-cardinality attributes of an operation (system, operation, destination, partition,
 * group, server), built once per combination and shared: they are on every span and every
 * metric point, so rebuilding them per message would be most of Baton's allocations.
 * Bounded: past {@link MAX_CACHED} combinations new ones are built but not kept.
 */
export class AttributeCache {
  // destination -> the combinations seen for it. Comparing a few fields is much cheaper
  // than building a string key per message.
  private readonly byDestination = new Map<string, CacheEntry[]>();
  private size = 0;

  constructor(private readonly stability: SemconvStability) {}

  /** Metric attributes (no `messaging.operation.type`) or, with a type, span start attributes. */
  get(
    description: MessageDescription,
    operationName: string,
    operationType?: OperationType,
  ): Attributes {
    const entries = this.byDestination.get(description.destination);
    if (entries !== undefined) {
      for (const entry of entries) {
        if (
          entry.operationType === operationType &&
          entry.operationName === operationName &&
          entry.system === description.system &&
          entry.partition === description.partition &&
          entry.consumerGroup === description.consumerGroup &&
          entry.serverAddress === description.serverAddress &&
          entry.serverPort === description.serverPort
        ) {
          return entry.attributes;
        }
      }
    }
    const attributes = lowCardinality(description, operationName, operationType, this.stability);
    if (this.size < MAX_CACHED) {
      this.size++;
      const entry: CacheEntry = {
        operationType,
        operationName,
        system: description.system,
        partition: description.partition,
        consumerGroup: description.consumerGroup,
        serverAddress: description.serverAddress,
        serverPort: description.serverPort,
        attributes,
      };
      if (entries === undefined) this.byDestination.set(description.destination, [entry]);
      else entries.push(entry);
    }
    return attributes;
  }
}

interface CacheEntry {
  operationType: OperationType | undefined;
  operationName: string;
  system: string;
  partition: string | number | undefined;
  consumerGroup: string | undefined;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  attributes: Attributes;
}

/**
 * The per-message span attributes (ids, conversation, delivery count, batch size, the
 * adapter's extras), or `undefined` when there are none. Only set on recording spans.
 */
export function messageAttributes(
  description: MessageDescription,
  stability: SemconvStability,
  correlationId: string | undefined,
  messageCount?: number,
): Attributes | undefined {
  const attributes: Attributes = { ...description.attributes };
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
