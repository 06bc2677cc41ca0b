import { KafkaJSNonRetriableError } from 'kafkajs';
import { COORDINATOR, type FakeGroup, type FakeKafka } from './broker.js';
import { rebalanceInProgress } from './errors.js';
import { CONSUMER_EVENTS, FakeEventEmitter } from './events.js';
import {
  consumerPayloads,
  type FakeBatchPayload,
  type FakeEachMessagePayload,
} from './payloads.js';
import type { FakeConsumedMessage } from './records.js';

// The consumer side of the in-memory Kafka, with kafkajs 2.x's protocol as far as Baton can
// observe it:
// - a group member joins a generation (GROUP_JOIN, with its partitions) once every member
//   has rejoined, and fetches from the group's committed offsets after each join;
// - a batch runs eachMessage per message (heartbeat after each) or eachBatch once, then
//   END_BATCH_PROCESS, then the auto-commit of the resolved offsets (a REQUEST event for
//   the OffsetCommit, then COMMIT_OFFSETS), then a heartbeat;
// - a handler error commits what was resolved and crashes the consumer, which restarts
//   (rejoins) and fetches the rest again; kafkajs first retries in place a few times, which
//   delivers the same messages in the same order;
// - a heartbeat during a rebalance commits what was resolved and throws kafkajs's own
//   REBALANCE_IN_PROGRESS; the consumer rejoins (REBALANCING) without a crash;
// - a non-retriable KafkaJS error crashes the consumer for good (restart: false);
// - `commitOffsets` validates as kafkajs does and does nothing once the consumer stopped.

export { CONSUMER_EVENTS } from './events.js';

const LEADER = 'kafka-1.test:9092';

export interface FakeConsumerConfig {
  groupId: string;
  maxBatchSize?: number;
}

export interface FakeRunConfig {
  eachMessage?: (payload: FakeEachMessagePayload) => Promise<void>;
  eachBatch?: (payload: FakeBatchPayload) => Promise<void>;
  eachBatchAutoResolve?: boolean;
  autoCommit?: boolean;
}

type CommitTopics = Array<{
  topic: string;
  partitions: Array<{ partition: number; offset: string }>;
}>;

const sleep = (ms: number) =>
  new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
const isRebalancing = (error: unknown) =>
  (error as { type?: unknown } | null)?.type === 'REBALANCE_IN_PROGRESS';
let members = 0;

export class FakeConsumer extends FakeEventEmitter {
  /** Failures that crashed the consumer, in order (handler errors among them, unchanged). */
  readonly crashes: unknown[] = [];
  heartbeats = 0;
  readonly groupId: string;
  readonly memberId = `member-${++members}`;
  private readonly maxBatchSize: number;
  private subscribed: string[] = [];
  private running = false;
  private everRan = false;
  private loop: Promise<void> | undefined;
  private generation = -1;
  private assignment: Array<{ topic: string; partition: number }> = [];
  /** Next offset per "topic:partition", as resolved since the last join. */
  private readonly resolved = new Map<string, number>();
  private config: FakeRunConfig = {};

  constructor(
    private readonly kafka: FakeKafka,
    config: FakeConsumerConfig,
  ) {
    super();
    this.groupId = config.groupId;
    this.maxBatchSize = config.maxBatchSize ?? 50;
  }

  async connect(): Promise<void> {
    this.emit(CONSUMER_EVENTS.CONNECT, null);
  }
  async subscribe({
    topics,
    topic,
  }: {
    topics?: string[];
    topic?: string;
    fromBeginning?: boolean;
  }): Promise<void> {
    this.subscribed.push(...(topics ?? (topic === undefined ? [] : [topic])));
  }

  async run(config: FakeRunConfig = {}): Promise<void> {
    this.config = config;
    this.running = true;
    this.everRan = true;
    this.loop = this.supervise();
  }

  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    await this.loop;
    if (wasRunning) this.emit(CONSUMER_EVENTS.STOP, null);
  }

  async disconnect(): Promise<void> {
    await this.stop();
    this.emit(CONSUMER_EVENTS.DISCONNECT, null);
  }

  /** kafkajs `consumer.commitOffsets`: validates, then commits unless the consumer stopped. */
  async commitOffsets(
    topicPartitions: Array<{ topic: string; partition: number; offset: string }> = [],
  ): Promise<void> {
    const topics: CommitTopics = [];
    for (const { topic, partition, offset } of topicPartitions) {
      if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`);
      if (Number.isNaN(Number(partition))) {
        throw new KafkaJSNonRetriableError(
          `Invalid partition, expected a number received ${partition}`,
        );
      }
      if (Number(offset) < 0)
        throw new KafkaJSNonRetriableError('Offset must not be a negative number');
      addCommit(topics, topic, partition, String(offset));
    }
    if (!this.everRan) {
      throw new KafkaJSNonRetriableError(
        'Consumer group was not initialized, consumer#run must be called first',
      );
    }
    if (!this.running) return;
    await this.commitToBroker(topics);
  }

  private stale(group: FakeGroup): boolean {
    return this.generation !== group.generation;
  }

  private async supervise(): Promise<void> {
    const group = this.kafka.group(this.groupId);
    group.members.push(this);
    bump(group);
    try {
      while (this.running) {
        try {
          await this.consume(group);
        } catch (error) {
          if (isRebalancing(error)) {
            this.emit(CONSUMER_EVENTS.REBALANCING, {
              groupId: this.groupId,
              memberId: this.memberId,
            });
            continue;
          }
          this.crashes.push(error);
          const restart = !((error as { retriable?: unknown })?.retriable === false);
          // kafkajs's onCrash disconnects first (STOP, DISCONNECT), then emits CRASH.
          this.emit(CONSUMER_EVENTS.STOP, null);
          this.emit(CONSUMER_EVENTS.DISCONNECT, null);
          this.emit(CONSUMER_EVENTS.CRASH, { error, groupId: this.groupId, restart });
          if (!restart) {
            this.running = false;
            break;
          }
          bump(group); // a restarted kafkajs consumer leaves the group and joins again
          await sleep(this.kafka.retryBackoffMs); // kafkajs's retry backoff
          // The restart connects again, unless the broker is still gone.
          if (this.running && this.kafka.faults.brokerDown === undefined) {
            this.emit(CONSUMER_EVENTS.CONNECT, null);
          }
        }
      }
    } finally {
      group.members = group.members.filter((member) => member !== this);
      bump(group);
    }
  }

  // JoinGroup + SyncGroup: wait until every member joined this generation, then take a share.
  private async join(group: FakeGroup): Promise<void> {
    const generation = group.generation;
    group.joined.add(this);
    while (
      this.running &&
      group.generation === generation &&
      !group.members.every((m) => group.joined.has(m))
    ) {
      await sleep(2);
    }
    if (!this.running || group.generation !== generation) return;
    this.generation = generation;
    this.resolved.clear();
    const all = this.subscribed.flatMap((topic) =>
      this.kafka.partitions(topic).map((_, partition) => ({ topic, partition })),
    );
    const order = [...group.members].sort((a, b) => a.memberId.localeCompare(b.memberId));
    const index = order.indexOf(this);
    this.assignment = all.filter((_, i) => i % order.length === index);
    const memberAssignment: Record<string, number[]> = {};
    for (const { topic, partition } of this.assignment) {
      memberAssignment[topic] = [...(memberAssignment[topic] ?? []), partition];
    }
    this.emit(CONSUMER_EVENTS.GROUP_JOIN, {
      groupId: this.groupId,
      memberId: this.memberId,
      isLeader: index === 0,
      memberAssignment,
      groupProtocol: 'RoundRobinAssigner',
      duration: 0,
    });
  }

  private async consume(group: FakeGroup): Promise<void> {
    while (this.running) {
      if (this.stale(group)) {
        await this.join(group);
        continue;
      }
      this.emit(CONSUMER_EVENTS.FETCH_START, { nodeId: 1 });
      const fault = this.kafka.faults.fetch.shift() ?? this.kafka.faults.brokerDown;
      if (fault !== undefined) throw fault;
      this.emitRequest('Fetch', LEADER);
      this.emit(CONSUMER_EVENTS.FETCH, { numberOfBatches: 0, duration: 0, nodeId: 1 });
      let worked = false;
      for (const { topic, partition } of this.assignment) {
        if (!this.running || this.stale(group)) break;
        const key = `${topic}:${partition}`;
        const from = this.resolved.get(key) ?? this.kafka.groupOffsets(this.groupId).get(key) ?? 0;
        const messages = this.kafka.fetch(topic, partition, from, this.maxBatchSize);
        if (messages.length === 0) continue;
        worked = true;
        await this.handleBatch(group, topic, partition, messages);
        await this.heartbeat(group);
      }
      if (!worked && this.running) await this.kafka.nextAppend(20);
      else await new Promise((resolve) => setImmediate(resolve)); // let timers run between fetches
    }
  }

  private async handleBatch(
    group: FakeGroup,
    topic: string,
    partition: number,
    messages: FakeConsumedMessage[],
  ): Promise<void> {
    const key = `${topic}:${partition}`;
    const resolve = (offset: string) => {
      const next = Number(offset) + 1;
      if (next > (this.resolved.get(key) ?? 0)) this.resolved.set(key, next);
    };
    const highWatermark = String(this.kafka.partitions(topic)[partition]?.length ?? 0);
    const { batch, event, eachMessagePayload, eachBatchPayload } = consumerPayloads({
      topic,
      partition,
      highWatermark,
      messages,
      resolveOffset: resolve,
      heartbeat: () => this.heartbeat(group, true),
      commitOffsetsIfNecessary: async (offsets?: { topics: CommitTopics }) =>
        offsets ? this.commitToBroker(offsets.topics) : this.commitResolved(),
      uncommittedOffsets: () => ({ topics: this.uncommitted() }),
      isRunning: () => this.running,
    });
    this.emit(CONSUMER_EVENTS.START_BATCH_PROCESS, event);
    const { eachMessage, eachBatch } = this.config;
    try {
      if (eachMessage) {
        for (const message of messages) {
          if (!this.running) break;
          await eachMessage(eachMessagePayload(message));
          resolve(message.offset);
          await this.heartbeat(group);
        }
      } else if (eachBatch) {
        await eachBatch(eachBatchPayload);
        if (this.config.eachBatchAutoResolve !== false) resolve(batch.lastOffset());
      }
    } catch (error) {
      // kafkajs commits what was resolved before the failure, then rethrows.
      if (!isRebalancing(error)) await this.commitResolved();
      throw error;
    }
    this.emit(CONSUMER_EVENTS.END_BATCH_PROCESS, { ...event, duration: 0 });
    await this.commitResolved();
  }

  // A rebalance is noticed at the next heartbeat: what was resolved is committed first.
  private async heartbeat(group: FakeGroup, fromHandler = false): Promise<void> {
    this.heartbeats++;
    // kafkajs sends a Heartbeat request at most once per heartbeatInterval; the handlers'
    // calls stand for those requests here.
    if (fromHandler) this.emitRequest('Heartbeat', COORDINATOR);
    const fault = fromHandler ? this.kafka.faults.heartbeat.shift() : undefined;
    if (fault === undefined && !this.stale(group)) return;
    await this.commitResolved();
    throw fault ?? rebalanceInProgress();
  }

  private uncommitted(): CommitTopics {
    const committed = this.kafka.groupOffsets(this.groupId);
    const topics: CommitTopics = [];
    for (const [key, next] of this.resolved) {
      if (committed.get(key) === next) continue;
      const topic = key.slice(0, key.lastIndexOf(':'));
      const partition = Number(key.slice(key.lastIndexOf(':') + 1));
      addCommit(topics, topic, partition, String(next));
    }
    return topics;
  }

  private async commitResolved(): Promise<void> {
    if (this.config.autoCommit === false) return;
    const topics = this.uncommitted();
    if (topics.length > 0) await this.commitToBroker(topics);
  }

  // OffsetCommit: the request event comes when the response arrives (also when the response
  // carries an error code), COMMIT_OFFSETS only once the commit succeeded.
  private async commitToBroker(topics: CommitTopics): Promise<void> {
    const fault = this.kafka.faults.commit.shift();
    if (fault !== undefined) {
      if ((fault as { type?: unknown }).type !== undefined)
        this.emitRequest('OffsetCommit', COORDINATOR);
      throw fault;
    }
    this.emitRequest('OffsetCommit', COORDINATOR);
    await Promise.resolve();
    for (const { topic, partitions } of topics) {
      for (const { partition, offset } of partitions) {
        this.kafka.commit(this.groupId, `${topic}:${partition}`, Number(offset));
      }
    }
    this.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, {
      groupId: this.groupId,
      memberId: this.memberId,
      groupGenerationId: this.generation,
      topics,
    });
  }
}

function addCommit(topics: CommitTopics, topic: string, partition: number, offset: string): void {
  const entry = topics.find((t) => t.topic === topic);
  if (entry) entry.partitions.push({ partition, offset });
  else topics.push({ topic, partitions: [{ partition, offset }] });
}

function bump(group: FakeGroup): void {
  group.generation++;
  group.joined = new Set();
}
