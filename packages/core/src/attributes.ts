import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_BATON_CORRELATION_ID,
  ATTR_BATON_DELIVERY_COUNT,
  ATTR_BATON_DESTINATION_PUBLISHED_NAME,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_DESTINATION_TEMPLATE,
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

/**
 * The low-cardinality attribute sets of one operation on one destination, shared by every
 * span and metric point of that combination (rebuilding them per message would be most
 * of Baton's allocations). Frozen.
 */
export interface OperationAttributes {
  /** The span name: `{operation} {destination}`, the template in place of the name if any. */
  readonly spanName: string;
  /** Span start attributes: the destination name, and its template when there is one. */
  readonly span: Attributes;
  /**
   * `messaging.client.operation.duration` points: as semconv lists them, with
   * `messaging.operation.type`, and the template instead of the name when there is one.
   */
  readonly operation: Attributes;
  /**
   * Message counters, `messaging.process.duration` and Baton's lag metrics: semconv lists
   * no `messaging.operation.type` for those. A consumer's carry
   * `baton.destination.published_name` when its adapter knows it.
   */
  readonly message: Attributes;
}

function build(
  description: MessageDescription,
  operationName: string,
  operationType: OperationType,
  template: string | undefined,
  published: string | undefined,
  stability: SemconvStability,
): OperationAttributes {
  const common: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: description.system,
    [ATTR_MESSAGING_OPERATION_NAME]: operationName,
  };
  if (description.partition !== undefined) {
    common[ATTR_MESSAGING_DESTINATION_PARTITION_ID] = String(description.partition);
  }
  if (description.consumerGroup !== undefined) {
    common[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = description.consumerGroup;
  }
  if (description.serverAddress !== undefined)
    common[ATTR_SERVER_ADDRESS] = description.serverAddress;
  if (description.serverPort !== undefined) common[ATTR_SERVER_PORT] = description.serverPort;
  // Semconv: the name goes on metrics only when it has low cardinality; else the template.
  const metricDestination: Attributes =
    template === undefined
      ? { [ATTR_MESSAGING_DESTINATION_NAME]: description.destination }
      : { [ATTR_MESSAGING_DESTINATION_TEMPLATE]: template };
  const span: Attributes = {
    ...common,
    [ATTR_MESSAGING_OPERATION_TYPE]: operationType,
    [ATTR_MESSAGING_DESTINATION_NAME]: description.destination,
  };
  if (template !== undefined) span[ATTR_MESSAGING_DESTINATION_TEMPLATE] = template;
  const freeze = (attributes: Attributes) =>
    Object.freeze(applySemconvStability(attributes, stability));
  return {
    spanName: `${operationName} ${template ?? description.destination}`,
    span: freeze(span),
    operation: freeze({
      ...common,
      [ATTR_MESSAGING_OPERATION_TYPE]: operationType,
      ...metricDestination,
    }),
    message: freeze({
      ...common,
      ...metricDestination,
      ...(published !== undefined && { [ATTR_BATON_DESTINATION_PUBLISHED_NAME]: published }),
    }),
  };
}

interface CacheEntry {
  operationType: OperationType;
  operationName: string;
  system: string;
  template: string | undefined;
  published: string | undefined;
  partition: string | number | undefined;
  consumerGroup: string | undefined;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  attributes: OperationAttributes;
}

const MAX_CACHED = 1024;

/**
 * {@link OperationAttributes} by combination, built once and shared. Bounded: past
 * {@link MAX_CACHED} combinations new ones are built but not kept.
 */
export class AttributeCache {
  // destination -> the combinations seen for it. Comparing a few fields is much cheaper
  // than building a string key per message.
  private readonly byDestination = new Map<string, CacheEntry[]>();
  private size = 0;

  constructor(private readonly stability: SemconvStability) {}

  get(
    description: MessageDescription,
    operationName: string,
    operationType: OperationType,
    template: string | undefined,
    published?: string,
  ): OperationAttributes {
    const entries = this.byDestination.get(description.destination);
    if (entries !== undefined) {
      for (const entry of entries) {
        if (
          entry.operationType === operationType &&
          entry.operationName === operationName &&
          entry.system === description.system &&
          entry.template === template &&
          entry.published === published &&
          entry.partition === description.partition &&
          entry.consumerGroup === description.consumerGroup &&
          entry.serverAddress === description.serverAddress &&
          entry.serverPort === description.serverPort
        ) {
          return entry.attributes;
        }
      }
    }
    const attributes = build(
      description,
      operationName,
      operationType,
      template,
      published,
      this.stability,
    );
    if (this.size < MAX_CACHED) {
      this.size++;
      const entry: CacheEntry = {
        operationType,
        operationName,
        system: description.system,
        template,
        published,
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

/**
 * The per-message span attributes (ids, conversation id, Baton's correlation id, delivery
 * count, batch size, the adapter's extras). Only set on recording spans.
 */
export function messageAttributes(
  description: MessageDescription,
  stability: SemconvStability,
  correlationId: string | undefined,
  messageCount?: number,
): Attributes {
  const attributes: Attributes = { ...description.attributes };
  if (description.messageId !== undefined) {
    attributes[ATTR_MESSAGING_MESSAGE_ID] = description.messageId;
  }
  if (description.conversationId !== undefined) {
    attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID] = description.conversationId;
  }
  if (correlationId !== undefined) attributes[ATTR_BATON_CORRELATION_ID] = correlationId;
  if (description.deliveryCount !== undefined) {
    attributes[ATTR_BATON_DELIVERY_COUNT] = description.deliveryCount;
  }
  if (messageCount !== undefined) attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = messageCount;
  return applySemconvStability(attributes, stability);
}

/** Maps a thrown value to `error.type`; adapters may know better names than the class. */
export type ErrorTypeOf = (error: unknown) => string | undefined;

/**
 * `error.type` for a thrown value: the error's class name (bounded by the code base, unlike
 * messages), or `'_OTHER'` for non-errors, as semconv asks.
 */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor?.name || error.name || 'Error';
  return '_OTHER';
}
