import type { BatonOptions, ErrorInfo, HeaderCarrier } from '@baton/core';

// Structural shapes of the kafkajs 2.x client (and the KafkaJS-compatible API of
// @confluentinc/kafka-javascript where it has the same shape). Only what Baton touches is
// named, so any client with these members fits; kafkajs itself is never imported.

/** A message as given to `send` / `sendBatch` (kafkajs `Message`). */
export interface KafkaMessageLike {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: HeaderCarrier;
  timestamp?: string;
}

/** The argument of `send` (kafkajs `ProducerRecord`). */
export interface KafkaProducerRecordLike {
  topic: string;
  messages: readonly KafkaMessageLike[];
}

/** The argument of `sendBatch` (kafkajs `ProducerBatch`). */
export interface KafkaProducerBatchLike {
  topicMessages?: readonly KafkaProducerRecordLike[];
}

/** What can send: a producer or a transaction (kafkajs `Sender`). */
export interface KafkaSenderLike {
  send(record: KafkaProducerRecordLike): Promise<unknown>;
  sendBatch(batch: KafkaProducerBatchLike): Promise<unknown>;
}

/** A producer (kafkajs `Producer`); `transaction` is wrapped when present. */
export interface KafkaProducerLike extends KafkaSenderLike {
  transaction?(): Promise<KafkaSenderLike>;
}

/** A consumed message (kafkajs `KafkaMessage`): headers arrive as Buffers or arrays of them. */
export interface KafkaConsumedMessageLike {
  key?: Buffer | null;
  value: Buffer | null;
  timestamp?: string;
  offset: string;
  headers?: HeaderCarrier;
}

/** The argument of `eachMessage` (kafkajs `EachMessagePayload`). */
export interface KafkaEachMessagePayloadLike {
  topic: string;
  partition: number;
  message: KafkaConsumedMessageLike;
}

/** The batch of an `eachBatch` payload (kafkajs `Batch`). */
export interface KafkaBatchLike {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: readonly KafkaConsumedMessageLike[];
}

/** The argument of `eachBatch` (kafkajs `EachBatchPayload`). */
export interface KafkaEachBatchPayloadLike {
  batch: KafkaBatchLike;
}

/** The argument of `run` (kafkajs `ConsumerRunConfig`). */
export interface KafkaRunConfigLike {
  eachMessage?(payload: KafkaEachMessagePayloadLike): Promise<void>;
  eachBatch?(payload: KafkaEachBatchPayloadLike): Promise<void>;
}

/** One offset of `consumer.commitOffsets` (kafkajs `TopicPartitionOffsetAndMetadata`). */
export interface KafkaTopicPartitionOffsetLike {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * A consumer (kafkajs `Consumer`). `on` / `events` are used for lag, the consumer group,
 * offset commits and `healthOf` when present.
 */
export interface KafkaConsumerLike {
  run(config?: KafkaRunConfigLike): Promise<void>;
  stop?(): Promise<void>;
  disconnect(): Promise<void>;
  commitOffsets?(topicPartitions: KafkaTopicPartitionOffsetLike[]): Promise<void>;
  on?(eventName: string, listener: (event: KafkaInstrumentationEventLike) => void): unknown;
  readonly events?: {
    readonly END_BATCH_PROCESS?: string;
    readonly GROUP_JOIN?: string;
    readonly COMMIT_OFFSETS?: string;
    readonly REQUEST?: string;
    readonly CONNECT?: string;
    readonly DISCONNECT?: string;
    readonly STOP?: string;
    readonly CRASH?: string;
    readonly FETCH?: string;
  };
}

/**
 * A kafkajs instrumentation event: Baton reads `GROUP_JOIN`, `END_BATCH_PROCESS`,
 * `COMMIT_OFFSETS` and `REQUEST`, and for `healthOf` `CONNECT`, `DISCONNECT`, `STOP`,
 * `CRASH` and `FETCH`.
 */
export interface KafkaInstrumentationEventLike {
  payload?: unknown;
}

/** The admin calls Baton uses to read lag (kafkajs `Admin`). */
export interface KafkaAdminLike {
  fetchTopicOffsets(
    topic: string,
  ): Promise<ReadonlyArray<{ partition: number; offset: string; high: string; low: string }>>;
  fetchOffsets(options: { groupId: string; topics?: string[] }): Promise<
    ReadonlyArray<{
      topic: string;
      partitions: ReadonlyArray<{ partition: number; offset: string }>;
    }>
  >;
}

/** Options for {@link traceProducer}. */
export interface KafkaProducerOptions extends BatonOptions {
  /**
   * Also start one `create <topic>` span per message (semconv creation context): each
   * message then carries its own create span's context, and the send span is a CLIENT span
   * linked to them.
   * @defaultValue false
   */
  createSpans?: boolean;
  /**
   * Put message keys on send and create spans as `messaging.kafka.message.key` (a string
   * key, or a Buffer key that is valid UTF-8; other keys are left off). Turn off when keys
   * hold personal data.
   * @defaultValue true
   */
  messageKeyAttribute?: boolean;
}

/** What Baton reports through {@link KafkaConsumerOptions.onError}. */
export interface KafkaErrorInfo extends ErrorInfo {
  /** `'lag'`: reading the group's offsets with `lagAdmin` failed (the gauge falls back to batches). */
  readonly operation: 'lag';
  /** The consumer group, when known. */
  readonly consumerGroup?: string;
}

/** Options for {@link traceHandler}. */
export interface KafkaHandlerOptions extends BatonOptions {
  /** The consumer group, for `messaging.consumer.group.name`. */
  consumerGroup?: string;
  /**
   * Put the message key on process spans as `messaging.kafka.message.key` (a Buffer key
   * only when it is valid UTF-8). Turn off when keys hold personal data.
   * @defaultValue true
   */
  messageKeyAttribute?: boolean;
}

/** Options for {@link traceConsumer}. */
export interface KafkaConsumerOptions extends KafkaHandlerOptions {
  /**
   * The consumer group, for `messaging.consumer.group.name` and the lag gauge. kafkajs does
   * not expose it on the consumer; without it Baton learns it from the consumer's
   * `GROUP_JOIN` event (kafkajs only).
   */
  consumerGroup?: string;
  /** @deprecated Use {@link KafkaConsumerOptions.consumerGroup}; goes away in the next release. */
  groupId?: string;
  /**
   * Least time between two reports of `baton.consumer.lag`.
   * @defaultValue 10_000
   */
  lagIntervalMs?: number;
  /**
   * An admin client: when given, `baton.consumer.lag` is read from the broker (high
   * watermark minus the group's committed offset, per partition) at most once per
   * `lagIntervalMs`. Without it, lag comes from the batches this consumer processes.
   */
  lagAdmin?: KafkaAdminLike;
  /**
   * Told about the errors Baton sees and does not throw. On Kafka there is one kind: a
   * failed `lagAdmin` read (`operation: 'lag'`). Handler errors, failed sends and failed
   * commits are never swallowed: they reach kafkajs or your code unchanged.
   * @defaultValue one `diag` warning per kind
   */
  onError?(error: unknown, info: KafkaErrorInfo): void;
}
