import type { MessagingTelemetry, NamedOperation } from '@baton/core';
import { KAFKA_SYSTEM } from './describe.js';
import type {
  KafkaConsumerLike,
  KafkaInstrumentationEventLike,
  KafkaTopicPartitionOffsetLike,
} from './types.js';

interface RequestReading {
  ms: number;
  serverAddress?: string;
  serverPort?: number;
}

interface Failure {
  error: unknown;
}

// kafkajs names a broker `${host}:${port}`.
function parseBroker(broker: unknown): Omit<RequestReading, 'ms'> {
  if (typeof broker !== 'string') return {};
  const colon = broker.lastIndexOf(':');
  const port = Number(broker.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) return {};
  return { serverAddress: broker.slice(0, colon), serverPort: port };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * Records every offset commit of one consumer as `messaging.client.operation.duration`
 * (operation `commit`, type `settle`), per topic:
 * - a commit that happened (auto-commit, `commitOffsetsIfNecessary`, `commitOffsets`), from
 *   kafkajs's own events: `COMMIT_OFFSETS` names the offsets, after the OffsetCommit
 *   `REQUEST` event that carries kafkajs's timing of that request and the coordinator it
 *   went to (`server.address` / `server.port`). A commit is recorded only with the request
 *   reading that came right before it, which the next request replaces, so a failed
 *   request never lends its timing to a later commit;
 * - a `commitOffsets` call that failed, timed by Baton, with the error's `error.type`
 *   (kafkajs reports no event for those).
 * A `commitOffsets` that committed nothing (kafkajs resolves it once the consumer stopped)
 * is not recorded.
 */
export class CommitRecorder {
  private reading: RequestReading | undefined;
  private removers: Array<() => void> = [];

  constructor(
    private readonly telemetry: MessagingTelemetry,
    private readonly consumerGroup: () => string | undefined,
  ) {}

  /** Listens to the consumer's REQUEST and COMMIT_OFFSETS events. Idempotent. */
  start(consumer: KafkaConsumerLike): void {
    const { REQUEST, COMMIT_OFFSETS } = consumer.events ?? {};
    if (this.removers.length > 0 || !this.telemetry.options.metrics) return;
    if (typeof consumer.on !== 'function') return;
    if (typeof REQUEST !== 'string' || typeof COMMIT_OFFSETS !== 'string') return;
    try {
      for (const [event, listener] of [
        [REQUEST, (e: KafkaInstrumentationEventLike) => this.onRequest(e)],
        [COMMIT_OFFSETS, (e: KafkaInstrumentationEventLike) => this.onCommit(e)],
      ] as const) {
        const remove = consumer.on(event, listener);
        if (typeof remove === 'function') this.removers.push(remove as () => void);
      }
    } catch (error) {
      this.telemetry.diagnostics.warnOnce('consumer events', error);
    }
  }

  /** Stops listening. Idempotent. */
  stop(): void {
    for (const remove of this.removers) remove();
    this.removers = [];
    this.reading = undefined;
  }

  /** `commitOffsets` of the traced view: the client's own, with its failures recorded. */
  commitOffsets(consumer: KafkaConsumerLike) {
    const original = consumer.commitOffsets as (...args: unknown[]) => unknown;
    return (topicPartitions: KafkaTopicPartitionOffsetLike[], ...rest: unknown[]) => {
      const startMs = performance.now();
      const failed = (error: unknown) => this.recordFailure(topicPartitions, startMs, { error });
      let result: unknown;
      try {
        result = original.call(consumer, topicPartitions, ...rest);
      } catch (error) {
        failed(error);
        throw error;
      }
      if (!isThenable(result)) return result;
      return result.then(undefined, (error: unknown) => {
        failed(error);
        throw error;
      });
    };
  }

  private onRequest(event: KafkaInstrumentationEventLike): void {
    const payload = event?.payload as
      | { apiName?: unknown; duration?: unknown; pendingDuration?: unknown; broker?: unknown }
      | undefined;
    if (payload?.apiName !== 'OffsetCommit') return;
    // kafkajs: pendingDuration = queued before sending, duration = sent until answered.
    const ms = Number(payload.duration) + (Number(payload.pendingDuration) || 0);
    this.reading =
      Number.isFinite(ms) && ms >= 0 ? { ms, ...parseBroker(payload.broker) } : undefined;
  }

  private onCommit(event: KafkaInstrumentationEventLike): void {
    const reading = this.reading;
    this.reading = undefined;
    if (reading === undefined) return;
    this.telemetry.diagnostics.guard('commit metrics', () => {
      const payload = event?.payload as { groupId?: unknown; topics?: unknown } | undefined;
      const group = typeof payload?.groupId === 'string' ? payload.groupId : this.consumerGroup();
      const startMs = performance.now() - reading.ms;
      if (!Array.isArray(payload?.topics)) return;
      for (const entry of payload.topics as Array<{ topic?: unknown; partitions?: unknown }>) {
        if (typeof entry?.topic !== 'string' || !Array.isArray(entry.partitions)) continue;
        const partitions = entry.partitions.map((p: { partition?: unknown }) => p?.partition);
        this.record(entry.topic, partitions, group, startMs, reading);
      }
    });
  }

  private recordFailure(topicPartitions: unknown, startMs: number, failure: Failure): void {
    this.telemetry.diagnostics.guard('commit metrics', () => {
      if (!Array.isArray(topicPartitions)) return;
      const byTopic = new Map<string, unknown[]>();
      for (const { topic, partition } of topicPartitions as KafkaTopicPartitionOffsetLike[]) {
        if (typeof topic !== 'string' || topic === '') continue;
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      }
      for (const [topic, partitions] of byTopic) {
        this.record(topic, partitions, this.consumerGroup(), startMs, {}, failure);
      }
    });
  }

  private record(
    topic: string,
    partitions: unknown[],
    consumerGroup: string | undefined,
    startMs: number,
    server: Omit<RequestReading, 'ms'>,
    failure?: Failure,
  ): void {
    const [partition] = partitions;
    const description: NamedOperation = {
      system: KAFKA_SYSTEM,
      destination: topic,
      operationName: 'commit',
      ...(partitions.length === 1 && typeof partition === 'number' && { partition }),
      ...(consumerGroup !== undefined && { consumerGroup }),
      ...(server.serverAddress !== undefined && { serverAddress: server.serverAddress }),
      ...(server.serverPort !== undefined && { serverPort: server.serverPort }),
    };
    this.telemetry.recordOperationDuration(
      'settle',
      description,
      startMs,
      failure === undefined ? {} : { error: failure.error, failed: true },
    );
  }
}
