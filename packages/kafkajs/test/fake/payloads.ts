import type { FakeConsumedMessage } from './records.js';

type CommitTopics = Array<{
  topic: string;
  partitions: Array<{ partition: number; offset: string }>;
}>;

export interface FakeEachMessagePayload {
  topic: string;
  partition: number;
  message: FakeConsumedMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

export interface FakeBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: FakeConsumedMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

export interface FakeBatchPayload {
  batch: FakeBatch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: { topics: CommitTopics }): Promise<void>;
  uncommittedOffsets(): { topics: CommitTopics };
  isRunning(): boolean;
  isStale(): boolean;
}

interface PayloadParts {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: FakeConsumedMessage[];
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(offsets?: { topics: CommitTopics }): Promise<void>;
  uncommittedOffsets(): { topics: CommitTopics };
  isRunning(): boolean;
}

/** The batch, its instrumentation event payload and the handler payloads of one fetch. */
export function consumerPayloads(parts: PayloadParts) {
  const { topic, partition, highWatermark, messages } = parts;
  const lastOffset = messages[messages.length - 1]?.offset ?? '-1';
  const batch: FakeBatch = {
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
  const pause = () => () => {};
  const eachMessagePayload = (message: FakeConsumedMessage): FakeEachMessagePayload => ({
    topic,
    partition,
    message,
    heartbeat: parts.heartbeat,
    pause,
  });
  const eachBatchPayload: FakeBatchPayload = {
    batch,
    resolveOffset: parts.resolveOffset,
    heartbeat: parts.heartbeat,
    pause,
    commitOffsetsIfNecessary: parts.commitOffsetsIfNecessary,
    uncommittedOffsets: parts.uncommittedOffsets,
    isRunning: parts.isRunning,
    isStale: () => false,
  };
  return { batch, event, eachMessagePayload, eachBatchPayload };
}
