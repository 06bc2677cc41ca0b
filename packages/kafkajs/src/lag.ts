import {
  type LagMonitor,
  type LagSample,
  type MessagingTelemetry,
  startLagMonitor,
} from '@baton/core';
import { KAFKA_SYSTEM } from './describe.js';
import type { ConsumerSettings } from './options.js';
import type { KafkaConsumerLike, KafkaErrorInfo, KafkaInstrumentationEventLike } from './types.js';

// Latest lag per topic-partition. Bounded: a consumer is assigned few partitions, but a
// regex subscription could grow without end, so the oldest entries make room.
const MAX_PARTITIONS = 4096;
const MAX_TOPICS = 1024;

interface BatchProcessPayload {
  topic?: unknown;
  partition?: unknown;
  offsetLag?: unknown;
}

/** Collects `baton.consumer.lag` for one consumer and reports it through core's monitor. */
export class LagTracker {
  private readonly latest = new Map<string, LagSample>();
  private readonly topics = new Set<string>();
  /** The latest reading reported, summed per topic (for `healthOf`). */
  private readonly reported = new Map<string, number>();
  private monitor: LagMonitor | undefined;
  private removers: Array<() => void> = [];

  constructor(
    private readonly telemetry: MessagingTelemetry,
    private readonly settings: ConsumerSettings,
    private readonly groupId: () => string | undefined,
  ) {}

  /** Remembers a topic for admin reads (cheap enough to call per message). */
  sawTopic(topic: string): void {
    if (this.topics.has(topic)) return;
    if (this.topics.size >= MAX_TOPICS) return;
    this.topics.add(topic);
  }

  /** The backlog after the last offset of a batch: high watermark - 1 - last offset. */
  recordBatch(topic: string, partition: number, highWatermark: string, lastOffset: string): void {
    const value = Number(highWatermark) - 1 - Number(lastOffset);
    if (Number.isFinite(value)) this.record(topic, partition, Math.max(0, value));
  }

  private record(topic: string, partition: number, value: number): void {
    this.sawTopic(topic);
    const key = `${topic}\u0000${partition}`;
    this.latest.delete(key);
    if (this.latest.size >= MAX_PARTITIONS) {
      const oldest = this.latest.keys().next().value;
      if (oldest !== undefined) this.latest.delete(oldest);
    }
    const sample: LagSample = { destination: topic, partition, value };
    const group = this.groupId();
    if (group !== undefined) sample.consumerGroup = group;
    this.latest.set(key, sample);
  }

  /** Starts listening to the consumer's batch events and reporting. Idempotent. */
  start(consumer: KafkaConsumerLike): void {
    if (this.monitor) return;
    this.listen(consumer);
    this.monitor = startLagMonitor(this.telemetry, {
      system: KAFKA_SYSTEM,
      read: async () => this.remember(await this.read()),
      intervalMs: this.settings.lagIntervalMs,
    });
  }

  /** Stops reporting and listening. Idempotent. */
  stop(): void {
    this.monitor?.stop();
    this.monitor = undefined;
    for (const remove of this.removers) remove();
    this.removers = [];
  }

  /** The topic's latest reported lag, summed over its partitions; undefined before one. */
  lagOf(topic: string): number | undefined {
    return this.reported.get(topic);
  }

  private remember(samples: LagSample[]): LagSample[] {
    this.reported.clear();
    for (const { destination, value } of samples) {
      if (this.reported.size >= MAX_TOPICS && !this.reported.has(destination)) continue;
      this.reported.set(destination, (this.reported.get(destination) ?? 0) + value);
    }
    return samples;
  }

  /** Reads once now (tests, shutdown). */
  async refresh(): Promise<void> {
    await this.monitor?.refresh();
  }

  // kafkajs emits END_BATCH_PROCESS after each fetched batch, in eachMessage mode too, with
  // the lag left after that batch; clients without instrumentation events skip this.
  private listen(consumer: KafkaConsumerLike): void {
    const event = consumer.events?.END_BATCH_PROCESS;
    if (typeof consumer.on !== 'function' || typeof event !== 'string') return;
    try {
      const remove = consumer.on(event, (e: KafkaInstrumentationEventLike) => {
        const payload = e?.payload as BatchProcessPayload | undefined;
        const value = Number(payload?.offsetLag);
        if (typeof payload?.topic !== 'string' || typeof payload.partition !== 'number') return;
        if (Number.isFinite(value)) this.record(payload.topic, payload.partition, value);
      });
      if (typeof remove === 'function') this.removers.push(remove as () => void);
    } catch (error) {
      this.telemetry.diagnostics.warnOnce('consumer events', error);
    }
  }

  // From the broker when an admin client was given (a failure goes to onError and the
  // batches' readings stand in), else from the batches.
  private async read(): Promise<LagSample[]> {
    const admin = this.settings.lagAdmin;
    const groupId = this.groupId();
    if (admin === undefined || groupId === undefined || this.topics.size === 0) {
      return [...this.latest.values()];
    }
    try {
      return await this.readAdmin(admin, groupId);
    } catch (error) {
      const info: KafkaErrorInfo = { operation: 'lag', consumerGroup: groupId };
      this.telemetry.reportError(error, info);
      return [...this.latest.values()];
    }
  }

  // High watermark minus the group's committed offset (no commit yet: the whole log).
  private async readAdmin(
    admin: NonNullable<ConsumerSettings['lagAdmin']>,
    groupId: string,
  ): Promise<LagSample[]> {
    const topics = [...this.topics];
    const committed = await admin.fetchOffsets({ groupId, topics });
    const samples: LagSample[] = [];
    for (const topic of topics) {
      const byPartition = new Map(
        committed.find((t) => t.topic === topic)?.partitions.map((p) => [p.partition, p.offset]),
      );
      for (const offsets of await admin.fetchTopicOffsets(topic)) {
        const high = Number(offsets.high);
        const done = Number(byPartition.get(offsets.partition) ?? -1);
        const value = done >= 0 ? high - done : high - Number(offsets.low);
        if (!Number.isFinite(value)) continue;
        samples.push({
          destination: topic,
          partition: offsets.partition,
          consumerGroup: groupId,
          value: Math.max(0, value),
        });
      }
    }
    return samples;
  }
}
