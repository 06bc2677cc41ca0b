import { FakeConsumer, type FakeConsumerConfig } from './consumer.js';
import { FakeProducer } from './producer.js';
import {
  consumedMessage,
  encodeHeaders,
  type FakeMessage,
  type StoredRecord,
  toBuffer,
} from './records.js';

/** Failures the next client calls meet, in order (each entry is thrown once). */
export interface FakeFaults {
  /** Thrown by the next fetches (a request error, a broker that went away). */
  fetch: unknown[];
  /** Thrown by the next offset commits (auto-commits and `commitOffsets` alike). */
  commit: unknown[];
  /** Thrown by the next `heartbeat()` calls made from handlers. */
  heartbeat: unknown[];
  /** Thrown by the next producer sends. */
  send: unknown[];
  /** While set, every fetch throws this (the broker is gone). */
  brokerDown: unknown;
}

export interface FakeKafkaOptions {
  /** Keep every produced message in {@link FakeKafka.sent}. @defaultValue true */
  keepSent?: boolean;
  /** Forget records every group has committed past (retention), to keep memory flat. @defaultValue false */
  dropCommitted?: boolean;
  /** How long a crashed consumer waits before it restarts. @defaultValue 5 */
  retryBackoffMs?: number;
}

/** A consumer group: its members and generation (a new one at every join or leave). */
export interface FakeGroup {
  generation: number;
  members: FakeConsumer[];
  /** Members that have joined the current generation. */
  joined: Set<FakeConsumer>;
}

/** The group coordinator every OffsetCommit goes to, as kafkajs names a broker. */
export const COORDINATOR = 'kafka-2.test:9093';

/**
 * An in-memory Kafka with kafkajs 2.x shapes: topics of partitioned logs, consumer groups
 * with generations and committed offsets, and fault injection. See consumer.ts for the
 * consumer's protocol.
 */
export class FakeKafka {
  readonly topics = new Map<string, Array<Array<StoredRecord | undefined>>>();
  /** group -> "topic:partition" -> next offset to consume */
  readonly committed = new Map<string, Map<string, number>>();
  readonly groups = new Map<string, FakeGroup>();
  /** Every record the producers handed to the broker, as given (after Baton's wrapper). */
  readonly sent: Array<{ topic: string; message: FakeMessage }> = [];
  readonly faults: FakeFaults = {
    fetch: [],
    commit: [],
    heartbeat: [],
    send: [],
    brokerDown: undefined,
  };
  private waiters: Array<() => void> = [];

  readonly retryBackoffMs: number;
  readonly keepsSent: boolean;

  constructor(private readonly options: FakeKafkaOptions = {}) {
    this.retryBackoffMs = options.retryBackoffMs ?? 5;
    this.keepsSent = options.keepSent !== false;
  }

  createTopic(topic: string, partitions = 1): void {
    if (!this.topics.has(topic)) {
      this.topics.set(
        topic,
        Array.from({ length: partitions }, () => []),
      );
    }
  }

  partitions(topic: string): Array<Array<StoredRecord | undefined>> {
    this.createTopic(topic);
    return this.topics.get(topic) as Array<Array<StoredRecord | undefined>>;
  }

  append(topic: string, message: FakeMessage): { partition: number; offset: string } {
    const partitions = this.partitions(topic);
    const partition = message.partition ?? 0;
    const log = partitions[partition];
    if (!log) throw new Error(`no partition ${partition} in ${topic}`);
    const record: StoredRecord = {
      key: toBuffer(message.key),
      value: toBuffer(message.value),
      timestamp: message.timestamp ?? String(Date.now()),
      offset: String(log.length),
      headers: encodeHeaders(message.headers),
    };
    log.push(record);
    if (this.keepsSent) this.sent.push({ topic, message });
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return { partition, offset: record.offset };
  }

  /** Resolves when something is appended, or after `ms` (the fake's fetch max wait). */
  nextAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  groupOffsets(groupId: string): Map<string, number> {
    let offsets = this.committed.get(groupId);
    if (!offsets) {
      offsets = new Map();
      this.committed.set(groupId, offsets);
    }
    return offsets;
  }

  group(groupId: string): FakeGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = { generation: 0, members: [], joined: new Set() };
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** Stores a group's committed offset; with `dropCommitted`, forgets what is behind it. */
  commit(groupId: string, key: string, offset: number): void {
    this.groupOffsets(groupId).set(key, offset);
    if (!this.options.dropCommitted) return;
    const [topic, partition] = [
      key.slice(0, key.lastIndexOf(':')),
      Number(key.slice(key.lastIndexOf(':') + 1)),
    ];
    const log = this.partitions(topic)[partition];
    if (!log) return;
    let floor = offset;
    for (const offsets of this.committed.values()) floor = Math.min(floor, offsets.get(key) ?? 0);
    for (let i = floor - 1; i >= 0 && log[i] !== undefined; i--) log[i] = undefined;
  }

  /** Fetches up to `max` records from `from`, decoded anew as every kafkajs fetch does. */
  fetch(topic: string, partition: number, from: number, max: number) {
    const log = this.partitions(topic)[partition] ?? [];
    const messages = [];
    for (let i = from; i < Math.min(log.length, from + max); i++) {
      const record = log[i];
      if (record === undefined) throw new Error(`offset ${i} of ${topic}/${partition} was dropped`);
      messages.push(consumedMessage(record));
    }
    return messages;
  }

  producer(): FakeProducer {
    return new FakeProducer(this);
  }

  consumer(config: FakeConsumerConfig): FakeConsumer {
    return new FakeConsumer(this, config);
  }

  admin() {
    return {
      fetchTopicOffsets: async (topic: string) =>
        this.partitions(topic).map((log, partition) => ({
          partition,
          offset: String(log.length),
          high: String(log.length),
          low: '0',
        })),
      fetchOffsets: async ({ groupId, topics }: { groupId: string; topics?: string[] }) =>
        (topics ?? []).map((topic) => ({
          topic,
          partitions: this.partitions(topic).map((_, partition) => ({
            partition,
            offset: String(this.groupOffsets(groupId).get(`${topic}:${partition}`) ?? -1),
          })),
        })),
    };
  }
}
