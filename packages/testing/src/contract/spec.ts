/**
 * Baton's telemetry contract as data: the one source that the contract checker validates
 * conformance runs against and that the packages' README tables are generated from.
 * It follows the OpenTelemetry messaging semantic conventions (Development status) and
 * documents what Baton adds under `baton.*`.
 */

/** `messaging.operation.type` values and the span kinds each may have. */
export const OPERATION_KINDS = {
  create: ['PRODUCER'],
  // CLIENT when the messages keep a creation context of their own (then it links them).
  send: ['PRODUCER', 'CLIENT'],
  receive: ['CLIENT'],
  process: ['CONSUMER'],
  settle: ['CLIENT'],
} as const satisfies Record<string, readonly SpanKindName[]>;

export type SpanKindName = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
export type OperationTypeName = keyof typeof OPERATION_KINDS;

/** One attribute Baton may put on spans, with where and why. */
export interface AttributeSpec {
  key: string;
  /** The semconv 1.45 (`OTEL_SEMCONV_STABILITY_OPT_IN=messaging`) name, when it differs. */
  stableKey?: string;
  /** Operation types whose spans carry it. */
  on: readonly OperationTypeName[];
  /** `required`: always there on those spans; `conditional`: when the bus knows it. */
  requirement: 'required' | 'conditional';
  /** Defined by the semantic conventions (`semconv`) or Baton's own (`baton`). */
  source: 'semconv' | 'baton';
  description: string;
}

const ALL: readonly OperationTypeName[] = ['create', 'send', 'receive', 'process', 'settle'];

/** Attributes every bus may put on its spans. */
export const COMMON_SPAN_ATTRIBUTES: readonly AttributeSpec[] = [
  {
    key: 'messaging.system',
    stableKey: 'messaging.system.name',
    on: ALL,
    requirement: 'required',
    source: 'semconv',
    description:
      'The bus (semconv has no value for Redis or an in-process bus: Baton uses `redis`, `in_process`).',
  },
  {
    key: 'messaging.operation.name',
    on: ALL,
    requirement: 'required',
    source: 'semconv',
    description:
      "The client's own name of the operation (`send`, `publish`, `process`, `ack`, ...).",
  },
  {
    key: 'messaging.operation.type',
    on: ALL,
    requirement: 'required',
    source: 'semconv',
    description: '`create`, `send`, `receive`, `process` or `settle`.',
  },
  {
    key: 'messaging.destination.name',
    on: ALL,
    requirement: 'required',
    source: 'semconv',
    description: 'Topic, exchange, queue, stream or event name.',
  },
  {
    key: 'messaging.destination.template',
    on: ALL,
    requirement: 'conditional',
    source: 'semconv',
    description:
      'With the `destinationTemplate` option: the low-cardinality form, used in the span name.',
  },
  {
    key: 'messaging.destination.partition.id',
    on: ALL,
    requirement: 'conditional',
    source: 'semconv',
    description: 'Kafka partition, when known.',
  },
  {
    key: 'messaging.consumer.group.name',
    on: ['receive', 'process', 'settle'],
    requirement: 'conditional',
    source: 'semconv',
    description: 'The consumer group (Kafka group, Redis group, in-process subscriber name).',
  },
  {
    key: 'messaging.message.id',
    on: ['create', 'send', 'receive', 'process', 'settle'],
    requirement: 'conditional',
    source: 'semconv',
    description: "The bus's id of a single message, when the bus has one.",
  },
  {
    key: 'messaging.message.conversation_id',
    on: ['create', 'send', 'receive', 'process', 'settle'],
    requirement: 'conditional',
    source: 'semconv',
    description:
      "The bus's own conversation id (AMQP `correlationId`); never Baton's correlation id.",
  },
  {
    key: 'messaging.batch.message_count',
    on: ['send', 'receive', 'process', 'settle'],
    requirement: 'conditional',
    source: 'semconv',
    description: 'Messages in a batch operation (never on single-message operations).',
  },
  {
    key: 'server.address',
    on: ALL,
    requirement: 'conditional',
    source: 'semconv',
    description: 'Broker host, when the client knows it.',
  },
  {
    key: 'server.port',
    on: ALL,
    requirement: 'conditional',
    source: 'semconv',
    description: 'Broker port, when the client knows it.',
  },
  {
    key: 'error.type',
    on: ALL,
    requirement: 'conditional',
    source: 'semconv',
    description:
      "On failure only: the error class name, or the client's error code (kafkajs error types).",
  },
  {
    key: 'baton.correlation_id',
    on: ALL,
    requirement: 'conditional',
    source: 'baton',
    description:
      "Baton's correlation id (`x-correlation-id`), on every span of a message or request.",
  },
  {
    key: 'baton.message.delivery_count',
    on: ['receive', 'process'],
    requirement: 'conditional',
    source: 'baton',
    description:
      'How many times this message has been delivered (1 = first), where the bus counts.',
  },
];

/** What one bus adds to the common contract. */
export interface SystemSpec {
  /** `messaging.system` value. */
  system: string;
  /** The adapter package. */
  packageName: string;
  /** Bus-specific span attributes. */
  attributes: readonly AttributeSpec[];
  /** Whether single-message process spans must carry `messaging.consumer.group.name`. */
  processConsumerGroup: 'required' | 'optional';
}

export const SYSTEMS: Readonly<Record<string, SystemSpec>> = {
  kafka: {
    system: 'kafka',
    packageName: '@baton/kafkajs',
    processConsumerGroup: 'optional',
    attributes: [
      {
        key: 'messaging.kafka.message.key',
        stableKey: 'kafka.message.key',
        on: ['create', 'send', 'process'],
        requirement: 'conditional',
        source: 'semconv',
        description:
          'The record key as a string, unless `messageKeyAttribute: false` (keys may be personal data); a binary key with no canonical string form is left out.',
      },
      {
        key: 'messaging.kafka.offset',
        stableKey: 'kafka.offset',
        on: ['process'],
        requirement: 'conditional',
        source: 'semconv',
        description: 'The record offset.',
      },
      {
        key: 'messaging.kafka.message.tombstone',
        stableKey: 'kafka.message.tombstone',
        on: ['create', 'send', 'process'],
        requirement: 'conditional',
        source: 'semconv',
        description: 'True for a record with a null value.',
      },
    ],
  },
  rabbitmq: {
    system: 'rabbitmq',
    packageName: '@baton/amqplib',
    processConsumerGroup: 'optional',
    attributes: [
      {
        key: 'messaging.rabbitmq.destination.routing_key',
        stableKey: 'rabbitmq.destination.routing_key',
        on: ['send', 'receive', 'process'],
        requirement: 'conditional',
        source: 'semconv',
        description:
          'The routing key, when not empty (also a part of the destination name: `{exchange}:{routing key}`, `{exchange}:{routing key}:{queue}` on the consumer side).',
      },
      {
        key: 'messaging.rabbitmq.message.delivery_tag',
        stableKey: 'rabbitmq.message.delivery_tag',
        on: ['receive', 'process', 'settle'],
        requirement: 'conditional',
        source: 'semconv',
        description: 'The delivery tag of a consumed message.',
      },
      {
        key: 'baton.rabbitmq.message.redelivered',
        on: ['receive', 'process'],
        requirement: 'conditional',
        source: 'baton',
        description:
          "AMQP's `redelivered` flag, on every delivery (`true` after a requeue or a closed channel).",
      },
      {
        key: 'baton.rabbitmq.message.death_count',
        on: ['receive', 'process'],
        requirement: 'conditional',
        source: 'baton',
        description: 'Times the message was dead-lettered (from `x-death`).',
      },
      {
        key: 'baton.rabbitmq.message.first_death_reason',
        on: ['receive', 'process'],
        requirement: 'conditional',
        source: 'baton',
        description: 'Why it was first dead-lettered (`rejected`, `expired`, ...).',
      },
      {
        key: 'baton.rabbitmq.settle.multiple',
        on: ['settle'],
        requirement: 'conditional',
        source: 'baton',
        description: 'An ack/nack with `allUpTo` (also on settle events of process spans).',
      },
      {
        key: 'baton.rabbitmq.settle.requeue',
        on: ['settle'],
        requirement: 'conditional',
        source: 'baton',
        description:
          'Whether a nack/reject requeues the message (also on settle events of process spans).',
      },
    ],
  },
  redis: {
    system: 'redis',
    packageName: '@baton/ioredis',
    processConsumerGroup: 'required',
    attributes: [],
  },
  in_process: {
    system: 'in_process',
    packageName: '@baton/event-emitter',
    processConsumerGroup: 'optional',
    attributes: [],
  },
};

/** One metric Baton emits. */
export interface MetricSpec {
  name: string;
  instrument: 'counter' | 'histogram' | 'gauge';
  unit: string;
  source: 'semconv' | 'baton';
  description: string;
  /** Attributes every point carries (besides `messaging.system` and the destination). */
  required: readonly string[];
  /** Attributes a point may carry. */
  optional: readonly string[];
}

/**
 * Baton's own metric attribute on a consumer's message metrics where the bus names the
 * consumer's destination differently from the producer's (RabbitMQ).
 */
export const PUBLISHED_NAME = 'baton.destination.published_name';

/** Semconv bucket advice for messaging durations, in seconds. */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
] as const;

const MESSAGE_OPTIONAL = [
  'messaging.destination.partition.id',
  'server.address',
  'server.port',
  'error.type',
] as const;

export const METRICS: readonly MetricSpec[] = [
  {
    name: 'messaging.client.sent.messages',
    instrument: 'counter',
    unit: '{message}',
    source: 'semconv',
    description: 'Messages a producer attempted to send.',
    required: ['messaging.operation.name'],
    optional: MESSAGE_OPTIONAL,
  },
  {
    name: 'messaging.client.consumed.messages',
    instrument: 'counter',
    unit: '{message}',
    source: 'semconv',
    description:
      'Messages delivered to the application (AMQP `get` included). On RabbitMQ also `baton.destination.published_name`: the `{exchange}:{routing key}` its producer sent to (its template with `destinationTemplate`), which the service map joins on.',
    required: ['messaging.operation.name'],
    optional: [...MESSAGE_OPTIONAL, 'messaging.consumer.group.name', PUBLISHED_NAME],
  },
  {
    name: 'messaging.client.operation.duration',
    instrument: 'histogram',
    unit: 's',
    source: 'semconv',
    description: 'Send, receive and settle (ack, nack, XACK, offset commit) durations.',
    required: ['messaging.operation.name', 'messaging.operation.type'],
    optional: [...MESSAGE_OPTIONAL, 'messaging.consumer.group.name'],
  },
  {
    name: 'messaging.process.duration',
    instrument: 'histogram',
    unit: 's',
    source: 'semconv',
    description: 'Handler duration, per message or per batch.',
    required: ['messaging.operation.name'],
    optional: [...MESSAGE_OPTIONAL, 'messaging.consumer.group.name', PUBLISHED_NAME],
  },
  {
    name: 'baton.consumer.time_in_queue',
    instrument: 'histogram',
    unit: 's',
    source: 'baton',
    description:
      "Processing start minus the message's creation time (Kafka record timestamp, Redis entry id, AMQP `timestamp_in_ms` header when the producer opts in with `publishTimeHeader`, else the `timestamp` property in whole seconds, in-process publish time).",
    required: ['messaging.operation.name'],
    optional: [
      'messaging.destination.partition.id',
      'messaging.consumer.group.name',
      'server.address',
      'server.port',
      PUBLISHED_NAME,
    ],
  },
  {
    name: 'baton.consumer.lag',
    instrument: 'gauge',
    unit: '{message}',
    source: 'baton',
    description:
      'Backlog the consumer has not processed yet (Kafka high watermark minus committed offset, Redis `XINFO GROUPS` lag, RabbitMQ queue depth), read off the message path.',
    required: [],
    optional: ['messaging.destination.partition.id', 'messaging.consumer.group.name'],
  },
  {
    name: 'baton.consumer.pending',
    instrument: 'gauge',
    unit: '{message}',
    source: 'baton',
    description: 'Delivered to the consumer and not yet acknowledged (Redis PEL).',
    required: [],
    optional: ['messaging.destination.partition.id', 'messaging.consumer.group.name'],
  },
];

/** The attribute names of one stability mode (`OTEL_SEMCONV_STABILITY_OPT_IN`). */
export type Stability = 'old' | 'stable' | 'dup';

/** The keys an attribute appears under in a stability mode. */
export function keysFor(
  spec: Pick<AttributeSpec, 'key' | 'stableKey'>,
  stability: Stability,
): string[] {
  if (spec.stableKey === undefined || stability === 'old') return [spec.key];
  if (stability === 'stable') return [spec.stableKey];
  return [spec.key, spec.stableKey];
}

/** The keys that may never appear in a stability mode (the other mode's names). */
export function forbiddenKeysFor(
  spec: Pick<AttributeSpec, 'key' | 'stableKey'>,
  stability: Stability,
): string[] {
  if (spec.stableKey === undefined || stability === 'dup') return [];
  return stability === 'old' ? [spec.stableKey] : [spec.key];
}
