import type { FakeKafka } from './broker.js';
import type { FakeMessage } from './records.js';

interface RecordArg {
  topic: string;
  messages: FakeMessage[];
  acks?: number;
}

/** A kafkajs-shaped producer writing to a {@link FakeKafka}. */
export class FakeProducer {
  /** The exact arguments each client call received (unless the broker keeps no `sent`). */
  readonly calls: Array<{ method: string; arg: unknown }> = [];
  constructor(private readonly kafka: FakeKafka) {
    if (!kafka.keepsSent) this.calls.push = () => 0;
  }
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
    const fault = this.kafka.faults.send.shift();
    if (fault !== undefined) throw fault;
    return records.flatMap(({ topic, messages }) =>
      messages.map((m) => ({ topicName: topic, errorCode: 0, ...this.kafka.append(topic, m) })),
    );
  }
}
