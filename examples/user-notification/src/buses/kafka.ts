import { healthOf, traceConsumer, traceProducer } from '@baton/kafkajs';
import { isReachable } from '@baton/testing';
import { type Consumer, Kafka, type LogEntry, logLevel, Partitioners } from 'kafkajs';
import type { BusFactoryOptions, DemoBus, Payload } from '../bus.js';

const DEFAULT_BROKERS = '127.0.0.1:9092'; // what `docker compose up -d kafka` exposes

// kafkajs retries an unreachable broker for a long time; the demo should say so at once.
const reachable = (address: string) => isReachable(address, 9092, 2000);

// Kafka topic names allow [a-zA-Z0-9._-] only.
const topicName = (namespace: string, event: string) =>
  `${namespace}.${event}`.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 249);

// kafkajs logs to stdout by default, where the services print their pino lines; keep its
// errors, on stderr, one line each.
const logCreator =
  () =>
  ({ namespace, log }: LogEntry) =>
    process.stderr.write(`kafkajs ${namespace}: ${log.message}\n`);

/**
 * The demo bus over Kafka (kafkajs wrapped by @baton/kafkajs): one topic per event,
 * `<namespace>.<event>`, and one consumer group per subscribing service,
 * `<namespace>.<service>`. A handler that throws leaves its message to kafkajs, which
 * delivers it again. Brokers come from `KAFKA_BROKERS` (default 127.0.0.1:9092); when none
 * answers, this rejects at once with a one-line reason.
 */
export async function createKafkaBus(options: BusFactoryOptions): Promise<DemoBus> {
  const brokers = (process.env.KAFKA_BROKERS || DEFAULT_BROKERS).split(',').filter(Boolean);
  const answers = await Promise.all(brokers.map((broker) => reachable(broker)));
  if (!answers.some(Boolean)) {
    throw new Error(
      `no Kafka broker answers at ${brokers.join(',')} (set KAFKA_BROKERS, or run \`docker compose up -d kafka\`)`,
    );
  }
  const kafka = new Kafka({
    clientId: `baton-demo-${options.namespace}`,
    brokers,
    connectionTimeout: 3000,
    retry: { retries: 3 },
    logLevel: logLevel.ERROR,
    logCreator,
  });
  const admin = kafka.admin();
  await admin.connect();
  const rawProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let connected = false;
  rawProducer.on(rawProducer.events.CONNECT, () => {
    connected = true;
  });
  rawProducer.on(rawProducer.events.DISCONNECT, () => {
    connected = false;
  });
  await rawProducer.connect();
  const producer = traceProducer(rawProducer);
  const consumers: Consumer[] = [];
  const groupsInUse = new Set<string>();
  const created = new Set<string>();

  const ensureTopic = async (topic: string) => {
    if (created.has(topic)) return;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    created.add(topic);
  };

  return {
    kind: 'kafka',
    async publish(event, payload) {
      const topic = topicName(options.namespace, event);
      await ensureTopic(topic);
      await producer.send({ topic, messages: [{ value: JSON.stringify(payload) }] });
    },
    async subscribe(event, group, handler) {
      const topic = topicName(options.namespace, event);
      await ensureTopic(topic);
      // kafkajs members of one group must subscribe to the same topics, so a service that
      // subscribes to a second event gets a second group.
      let groupId = topicName(options.namespace, group);
      if (groupsInUse.has(groupId)) groupId = `${groupId}.${topicName('', event).slice(1)}`;
      groupsInUse.add(groupId);
      const consumer = traceConsumer(
        kafka.consumer({ groupId, heartbeatInterval: 1000, maxWaitTimeInMs: 100 }),
        { consumerGroup: groupId, lagAdmin: admin, lagIntervalMs: 2000 },
      );
      await consumer.connect();
      consumers.push(consumer); // the traced view: its disconnect also stops the lag gauge
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          await handler(JSON.parse(message.value?.toString() ?? 'null') as Payload);
        },
      });
    },
    async close() {
      // disconnect() waits for the handlers in flight before leaving the group.
      await Promise.all(consumers.map((consumer) => consumer.disconnect()));
      await rawProducer.disconnect();
      await admin.disconnect();
    },
    // The producer's connection from kafkajs's CONNECT / DISCONNECT events; each
    // consumer's from @baton/kafkajs's healthOf (running, connected, last fetch, lag).
    health: () => ({
      connected,
      ...(!connected && { connectionError: 'the producer is disconnected' }),
      consumers: consumers.flatMap((consumer) => healthOf(consumer)),
    }),
  };
}
