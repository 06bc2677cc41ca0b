// An in-memory Kafka with kafkajs 2.x shapes, for unit tests. It reproduces what matters to
// Baton: headers are encoded per value (arrays become repeated headers) and decoded the way
// kafkajs decodes them (Buffers; a repeated key becomes an array of Buffers; null stays
// null; keys keep their case); offsets and timestamps are strings; eachMessage / eachBatch
// failures make the consumer retry from the last resolved offset, as kafkajs does; and the
// consumer emits GROUP_JOIN, START_BATCH_PROCESS and END_BATCH_PROCESS events.

type HeaderInput = Buffer | string | (Buffer | string)[] | undefined;

interface StoredRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  offset: string;
  headers: Array<{ key: string; value: Buffer | null }>;
}

export interface FakeMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: Record<string, HeaderInput>;
  timestamp?: string;
}

export interface FakeConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  attributes: number;
  offset: string;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
}

export const CONSUMER_EVENTS = Object.freeze({
  GROUP_JOIN: 'consumer.group_join',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CRASH: 'consumer.crash',
});

const toBuffer = (value: Buffer | string | null | undefined): Buffer | null => {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
};

// kafkajs's record encoder: Object.keys(headers).flatMap(array -> one header per value).
function encodeHeaders(headers: Record<string, HeaderInput> | undefined) {
  const list: Array<{ key: string; value: Buffer | null }> = [];
  for (const key of Object.keys(headers ?? {})) {
    const value = headers?.[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      // kafkajs computes Buffer.byteLength(value) and throws on undefined header values.
      if (item === undefined) throw new TypeError(`header ${key} has an undefined value`);
      list.push({ key, value: toBuffer(item) });
    }
  }
  return list;
}

// kafkajs's record decoder: a repeated key becomes an array, in order.
function decodeHeaders(list: StoredRecord['headers']): FakeConsumedMessage['headers'] {
  const headers: FakeConsumedMessage['headers'] = {};
  for (const { key, value } of list) {
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else headers[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

export class FakeKafka {
  readonly topics = new Map<string, StoredRecord[][]>();
  /** group -> "topic:partition" -> next offset to consume */
  readonly committed = new Map<string, Map<string, number>>();
  /** Every record the producers handed to the broker, as given (after Baton's wrapper). */
  readonly sent: Array<{ topic: string; message: FakeMessage }> = [];
  private waiters: Array<() => void> = [];

  createTopic(topic: string, partitions = 1): void {
    if (!this.topics.has(topic)) {
      this.topics.set(
        topic,
        Array.from({ length: partitions }, () => []),
      );
    }
  }

  partitions(topic: string): StoredRecord[][] {
    this.createTopic(topic);
    return this.topics.get(topic) as StoredRecord[][];
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
    this.sent.push({ topic, message });
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

  fetch(topic: string, partition: number, from: number, max: number): FakeConsumedMessage[] {
    const log = this.partitions(topic)[partition] ?? [];
    return log.slice(from, from + max).map((r) => ({
      key: r.key,
      value: r.value,
      timestamp: r.timestamp,
      attributes: 0,
      offset: r.offset,
      headers: decodeHeaders(r.headers),
    }));
  }

  producer(): FakeProducer {
    return new FakeProducer(this);
  }

  consumer(config: { groupId: string; maxBatchSize?: number }): FakeConsumer {
    return new FakeConsumer(this, config.groupId, config.maxBatchSize ?? 50);
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

interface RecordArg {
  topic: string;
  messages: FakeMessage[];
  acks?: number;
}

export class FakeProducer {
  /** The exact arguments each client call received. */
  readonly calls: Array<{ method: string; arg: unknown }> = [];
  constructor(private readonly kafka: FakeKafka) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  isIdempotent(): boolean {
    return false;
  }
  async send(record: RecordArg) {
    this.calls.push({ method: 'send', arg: record });
    return this.write([record]);
  }
  async sendBatch(batch: { topicMessages?: RecordArg[] }) {
    this.calls.push({ method: 'sendBatch', arg: batch });
    return this.write(batch.topicMessages ?? []);
  }
  async transaction() {
    const pending: RecordArg[] = [];
    let active = true;
    const calls = this.calls;
    return {
      async send(record: RecordArg) {
        calls.push({ method: 'transaction.send', arg: record });
        pending.push(record);
        return [];
      },
      async sendBatch(batch: { topicMessages?: RecordArg[] }) {
        calls.push({ method: 'transaction.sendBatch', arg: batch });
        pending.push(...(batch.topicMessages ?? []));
        return [];
      },
      commit: async () => {
        active = false;
        this.write(pending);
      },
      async abort() {
        active = false;
      },
      isActive: () => active,
      async sendOffsets() {},
    };
  }
  private write(records: RecordArg[]) {
    const written = records.flatMap(({ topic, messages }) =>
      messages.map((m) => ({ topicName: topic, errorCode: 0, ...this.kafka.append(topic, m) })),
    );
    return written;
  }
}

type Listener = (event: { id: number; type: string; timestamp: number; payload: unknown }) => void;

export interface FakeRunConfig {
  eachMessage?: (payload: {
    topic: string;
    partition: number;
    message: FakeConsumedMessage;
    heartbeat(): Promise<void>;
    pause(): () => void;
  }) => Promise<void>;
  eachBatch?: (payload: FakeBatchPayload) => Promise<void>;
  eachBatchAutoResolve?: boolean;
}

export interface FakeBatchPayload {
  batch: {
    topic: string;
    partition: number;
    highWatermark: string;
    messages: FakeConsumedMessage[];
    isEmpty(): boolean;
    firstOffset(): string | null;
    lastOffset(): string;
    offsetLag(): string;
    offsetLagLow(): string;
  };
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(): Promise<void>;
  uncommittedOffsets(): { topics: [] };
  isRunning(): boolean;
  isStale(): boolean;
}

export class FakeConsumer {
  readonly events = CONSUMER_EVENTS;
  /** Failures of eachMessage / eachBatch, as kafkajs would log and retry them. */
  readonly crashes: unknown[] = [];
  heartbeats = 0;
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscribed: string[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private eventId = 0;

  constructor(
    private readonly kafka: FakeKafka,
    readonly groupId: string,
    private readonly maxBatchSize: number,
  ) {}

  async connect(): Promise<void> {}
  async subscribe({ topics }: { topics: string[]; fromBeginning?: boolean }): Promise<void> {
    this.subscribed.push(...topics);
  }

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  private emit(type: string, payload: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) {
      listener({ id: this.eventId++, type, timestamp: Date.now(), payload });
    }
  }

  async run(config: FakeRunConfig = {}): Promise<void> {
    this.running = true;
    this.emit(CONSUMER_EVENTS.GROUP_JOIN, { groupId: this.groupId, memberId: 'm-1' });
    this.loop = this.consume(config);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  async disconnect(): Promise<void> {
    await this.stop();
  }

  private async consume(config: FakeRunConfig): Promise<void> {
    const offsets = this.kafka.groupOffsets(this.groupId);
    while (this.running) {
      let worked = false;
      for (const topic of this.subscribed) {
        const logs = this.kafka.partitions(topic);
        for (let partition = 0; partition < logs.length && this.running; partition++) {
          const key = `${topic}:${partition}`;
          const from = offsets.get(key) ?? 0;
          const messages = this.kafka.fetch(topic, partition, from, this.maxBatchSize);
          if (messages.length === 0) continue;
          worked = true;
          const highWatermark = String(logs[partition]?.length ?? 0);
          let resolved = from;
          const resolve = (offset: string) => {
            resolved = Math.max(resolved, Number(offset) + 1);
          };
          const lastOffset = messages[messages.length - 1]?.offset ?? String(from - 1);
          const batch = {
            topic,
            partition,
            highWatermark,
            messages,
            isEmpty: () => messages.length === 0,
            firstOffset: () => messages[0]?.offset ?? null,
            lastOffset: () => lastOffset,
            offsetLag: () => String(Number(highWatermark) - 1 - Number(lastOffset)),
            offsetLagLow: () => String(Number(highWatermark) - 1 - Number(messages[0]?.offset)),
          };
          const event = {
            topic,
            partition,
            highWatermark,
            offsetLag: batch.offsetLag(),
            offsetLagLow: batch.offsetLagLow(),
            batchSize: messages.length,
            firstOffset: batch.firstOffset(),
            lastOffset,
          };
          this.emit(CONSUMER_EVENTS.START_BATCH_PROCESS, event);
          const heartbeat = async () => {
            this.heartbeats++;
          };
          const pause = () => () => {};
          try {
            if (config.eachMessage) {
              for (const message of messages) {
                if (!this.running) break;
                await config.eachMessage({ topic, partition, message, heartbeat, pause });
                resolve(message.offset);
              }
            } else if (config.eachBatch) {
              await config.eachBatch({
                batch,
                resolveOffset: resolve,
                heartbeat,
                pause,
                commitOffsetsIfNecessary: async () => {
                  offsets.set(key, resolved);
                },
                uncommittedOffsets: () => ({ topics: [] }),
                isRunning: () => this.running,
                isStale: () => false,
              });
              if (config.eachBatchAutoResolve !== false) resolve(lastOffset);
            }
            this.emit(CONSUMER_EVENTS.END_BATCH_PROCESS, { ...event, duration: 0 });
          } catch (error) {
            // kafkajs commits what was resolved, the consumer crashes and restarts, and the
            // failed message is fetched (delivered) again.
            this.crashes.push(error);
            this.emit(CONSUMER_EVENTS.CRASH, { error, groupId: this.groupId, restart: true });
            await new Promise((resolve) => setTimeout(resolve, 5)); // kafkajs's retry backoff
          }
          offsets.set(key, resolved);
        }
      }
      if (!worked && this.running) await this.kafka.nextAppend(20);
      else await new Promise((resolve) => setImmediate(resolve)); // let timers run between fetches
    }
  }
}
