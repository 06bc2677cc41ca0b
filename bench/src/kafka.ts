import type { BatonOptions } from '@baton/core';
import { traceConsumer, traceProducer } from '@baton/kafkajs';
import { isReachable } from '@baton/testing';
import { type Consumer, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { byHand, counter } from './kafka-reference.js';
import type { Scenario, Variant } from './measure.js';
import { handlerWork } from './work.js';

// bare kafkajs vs kafkajs wrapped by @baton/kafkajs against a real broker (KAFKA_BROKERS,
// else 127.0.0.1:9092); undefined when none answers, and `npm run bench` then reports the
// kafkajs-shaped fake (kafka-fake.ts) instead, saying so.

const SEND_BATCH = 100; // messages per send() call

const reachable = (address: string) => isReachable(address, 9092, 1500);

const unique = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** kafkajs with and without Baton against the broker in KAFKA_BROKERS (or 127.0.0.1:9092). */
export async function scenario(): Promise<Scenario | undefined> {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').filter(Boolean);
  if (brokers.length === 0 || !(await reachable(brokers[0] as string))) return undefined;
  const kafka = new Kafka({ clientId: 'baton-bench', brokers, logLevel: logLevel.NOTHING });

  async function variant(wrap?: BatonOptions, reference?: BatonOptions): Promise<Variant> {
    const topic = unique('baton-bench');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    const rawProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await rawProducer.connect();
    const producer: Producer = wrap ? traceProducer(rawProducer, wrap) : rawProducer;
    const groupId = unique('baton-bench-group');
    const hand = reference ? byHand(reference, groupId) : undefined;
    const rawConsumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
    await rawConsumer.connect();
    const consumer: Consumer = wrap
      ? traceConsumer(rawConsumer, { ...wrap, consumerGroup: groupId })
      : rawConsumer;
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let onMessage: () => void = () => {};
    const joined = new Promise<void>((resolve) => {
      rawConsumer.on(rawConsumer.events.GROUP_JOIN, () => resolve());
    });
    const handle = (value: Buffer | null) => {
      if (value === null) throw new Error('unexpected tombstone');
      handlerWork();
      onMessage();
    };
    await consumer.run({
      eachMessage: async ({ partition, message }) =>
        hand
          ? hand.process(topic, partition, message, () => handle(message.value))
          : handle(message.value),
    });
    await joined; // the group join is set-up, not part of the measured run
    return {
      async run(n) {
        const c = counter(n);
        onMessage = c.onMessage;
        for (let sent = 0; sent < n; sent += SEND_BATCH) {
          const count = Math.min(SEND_BATCH, n - sent);
          const messages = Array.from({ length: count }, (_, i) => ({
            key: `user-${(sent + i) % 64}`,
            value: JSON.stringify({ i: sent + i, email: 'someone@example.com' }),
          }));
          if (hand) await hand.send(topic, messages, (m) => producer.send({ topic, messages: m }));
          else await producer.send({ topic, messages });
        }
        await c.done;
      },
      async teardown() {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.deleteTopics({ topics: [topic] }).catch(() => {});
        await admin.disconnect();
      },
    };
  }

  return {
    name: 'kafkajs vs @baton/kafkajs, real broker, send (100 msgs/call) + eachMessage',
    plan: { messages: 50_000, warmupMessages: 150_000, rounds: 4 },
    bare: () => variant(),
    baton: (options) => variant(options),
    handWritten: (options) => variant(undefined, options),
  };
}
