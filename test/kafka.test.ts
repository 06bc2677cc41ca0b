import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import {
  getCorrelationId,
  METRIC_CONSUMED_MESSAGES,
  METRIC_CONSUMER_LAG,
  METRIC_OPERATION_DURATION,
  METRIC_SENT_MESSAGES,
  withCorrelationId,
} from '@baton/core';
import { runInMessageContext, traceConsumer, traceProducer } from '@baton/kafkajs';
import { createTestTelemetry, sumMetric, type TestTelemetry, waitFor } from '@baton/testing';
import { runConformanceSuite } from '@baton/testing/conformance';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, requiredBrokers, uniqueName } from './brokers.js';

// Where the brokers come from: KAFKA_BROKERS, else a Kafka in Testcontainers when a Docker
// engine is reachable, else the whole file is skipped with one line (or fails when
// BATON_REQUIRE_BROKERS lists kafka). Docker is probed before testcontainers is imported,
// so the skip costs nothing.
// Asks the Docker engine for /_ping (unix socket or DOCKER_HOST tcp://), within 1.5 s.
function dockerEngine(): Promise<{ available: boolean; reason: string }> {
  const host = process.env.DOCKER_HOST;
  let target: { path: string } | { host: string; port: number };
  if (host?.startsWith('tcp://')) {
    const url = new URL(host.replace('tcp://', 'http://'));
    target = { host: url.hostname, port: Number(url.port) || 2375 };
  } else {
    const path = host?.startsWith('unix://')
      ? host.slice('unix://'.length)
      : '/var/run/docker.sock';
    if (!existsSync(path)) {
      return Promise.resolve({
        available: false,
        reason: `no Docker engine is reachable (no ${path})`,
      });
    }
    target = { path };
  }
  return new Promise((resolve) => {
    const done = (available: boolean) => {
      socket.destroy();
      resolve({ available, reason: 'the Docker engine does not answer' });
    };
    const socket = connect(target as never);
    socket.setTimeout(1500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().includes(' 200 ')));
  });
}

async function findKafka(): Promise<{ brokers: string[]; stop(): Promise<void> } | undefined> {
  if (process.env.KAFKA_BROKERS) {
    const url = await brokerOrSkip('kafka');
    return url ? { brokers: url.split(','), stop: async () => {} } : undefined;
  }
  const docker = await dockerEngine();
  if (!docker.available) {
    const message = `kafka integration tests SKIPPED: KAFKA_BROKERS is not set and ${docker.reason}`;
    if (requiredBrokers().has('kafka')) {
      throw new Error(`${message}, but BATON_REQUIRE_BROKERS requires kafka`);
    }
    console.warn(`\n*** ${message} ***\n`);
    return undefined;
  }
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer('confluentinc/cp-kafka:7.6.1')
    .withEnvironment({ KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' })
    .start();
  return {
    brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
    stop: async () => {
      await container.stop();
    },
  };
}

const found = await findKafka();

describe.skipIf(!found)('@baton/kafkajs against Kafka', () => {
  const brokers = found?.brokers ?? [];
  const kafka = new Kafka({ clientId: 'baton-tests', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let telemetry: TestTelemetry;
  let producers: Producer[];
  let consumers: Consumer[];

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.disconnect();
    await found?.stop();
  });
  beforeEach(() => {
    telemetry = createTestTelemetry();
    producers = [];
    consumers = [];
  });
  afterEach(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await Promise.all(producers.map((p) => p.disconnect()));
    await telemetry.shutdown();
  });

  const providers = () => ({
    ...telemetry.providers,
  });
  const createTopic = async (partitions = 1) => {
    const topic = uniqueName('baton-kafka');
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions }],
    });
    return topic;
  };
  const newProducer = async (options = {}) => {
    const raw = kafka.producer();
    await raw.connect();
    producers.push(raw);
    return traceProducer(raw, { ...providers(), ...options });
  };
  const newConsumer = async (topic: string, groupId: string, options = {}) => {
    const raw = kafka.consumer({ groupId, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    const consumer = traceConsumer(raw, { ...providers(), consumerGroup: groupId, ...options });
    await consumer.connect();
    consumers.push(consumer); // the traced view: its disconnect also stops the lag gauge
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return consumer;
  };
  const spansOf = (kind: SpanKind) => telemetry.spans().filter((s) => s.kind === kind);

  it('makes producer, consumer and the handler’s own spans one trace', async () => {
    const topic = await createTopic();
    const producer = await newProducer();
    const consumer = await newConsumer(topic, uniqueName('group'));
    const tracer = telemetry.tracerProvider.getTracer('user');
    const handled: Array<string | undefined> = [];
    await consumer.run({
      eachMessage: async () => {
        tracer.startSpan('handle').end();
        handled.push(getCorrelationId());
      },
    });
    const root = tracer.startSpan('request');
    await context.with(trace.setSpan(context.active(), root), () =>
      withCorrelationId('kafka-trace-1', () =>
        producer.send({ topic, messages: [{ key: 'k', value: 'hello' }] }),
      ),
    );
    root.end();
    await waitFor(() => handled.length === 1, { timeoutMs: 30_000 });
    await waitFor(() => spansOf(SpanKind.CONSUMER).length === 1);
    const [send] = spansOf(SpanKind.PRODUCER);
    const [process] = spansOf(SpanKind.CONSUMER);
    const handle = telemetry.spans().find((s) => s.name === 'handle');
    expect(send?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(handle?.parentSpanContext?.spanId).toBe(process?.spanContext().spanId);
    expect(new Set([send, process, handle].map((s) => s?.spanContext().traceId)).size).toBe(1);
    expect(handled).toEqual(['kafka-trace-1']);
    expect(process?.attributes).toMatchObject({
      'messaging.destination.name': topic,
      'messaging.kafka.offset': 0,
      'messaging.kafka.message.key': 'k',
    });
  });

  it('gives each message of an eachBatch call its own trace and correlation id', async () => {
    const topic = await createTopic();
    const producer = await newProducer();
    const ids = ['batch-a', 'batch-b', 'batch-c'];
    for (const id of ids) {
      await withCorrelationId(id, () => producer.send({ topic, messages: [{ value: id }] }));
    }
    const sendTrace = new Map(
      spansOf(SpanKind.PRODUCER).map((s) => [
        s.attributes['baton.correlation_id'],
        s.spanContext().traceId,
      ]),
    );
    const consumer = await newConsumer(topic, uniqueName('group'));
    const seen: Array<{ value: string; traceId?: string; correlationId?: string }> = [];
    await consumer.run({
      eachBatch: async (payload) => {
        for (const message of payload.batch.messages) {
          runInMessageContext(message, () => {
            seen.push({
              value: message.value?.toString() ?? '',
              traceId: trace.getActiveSpan()?.spanContext().traceId,
              correlationId: getCorrelationId(),
            });
          });
          payload.resolveOffset(message.offset);
          await payload.heartbeat();
        }
      },
    });
    await waitFor(() => seen.length >= 3, { timeoutMs: 30_000 });
    expect(seen).toEqual(
      ids.map((id) => ({ value: id, traceId: sendTrace.get(id), correlationId: id })),
    );
    const batches = spansOf(SpanKind.CONSUMER);
    expect(batches.flatMap((b) => b.links.map((l) => l.context.traceId)).sort()).toEqual(
      [...sendTrace.values()].sort(),
    );
  });

  it('splits two partitions between two consumers of one group, each message once', async () => {
    const topic = await createTopic(2);
    const group = uniqueName('group');
    const assigned = new Map<string, number[]>();
    const received = new Map<string, string[]>([
      ['c1', []],
      ['c2', []],
    ]);
    for (const name of ['c1', 'c2']) {
      const consumer = await newConsumer(topic, group);
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        assigned.set(name, e.payload.memberAssignment[topic] ?? []);
      });
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.get(name)?.push(message.value?.toString() ?? '');
        },
      });
    }
    await waitFor(() => assigned.get('c1')?.length === 1 && assigned.get('c2')?.length === 1, {
      timeoutMs: 45_000,
      message: 'one partition per consumer',
    });
    const producer = await newProducer();
    const bodies = Array.from({ length: 40 }, (_, i) => `m-${i}`);
    await producer.send({
      topic,
      messages: bodies.map((value, i) => ({ value, partition: i % 2 })),
    });
    await waitFor(() => [...received.values()].flat().length >= 40, { timeoutMs: 30_000 });
    expect([...received.values()].flat().sort()).toEqual([...bodies].sort());
    expect(received.get('c1')).toHaveLength(20);
    expect(received.get('c2')).toHaveLength(20);
    const partitions = new Set(
      spansOf(SpanKind.CONSUMER).map((s) => s.attributes['messaging.destination.partition.id']),
    );
    expect(partitions).toEqual(new Set(['0', '1']));
    expect(
      spansOf(SpanKind.CONSUMER).every(
        (s) => s.attributes['messaging.consumer.group.name'] === group,
      ),
    ).toBe(true);
  });

  it('reports the offset lag of the group per partition, falling to 0', async () => {
    const topic = await createTopic();
    const producer = await newProducer();
    await producer.send({
      topic,
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `${i}` })),
    });
    const lagAdmin = kafka.admin();
    await lagAdmin.connect();
    const consumer = await newConsumer(topic, uniqueName('group'), {
      lagAdmin,
      lagIntervalMs: 200,
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handled = 0;
    await consumer.run({
      eachMessage: async () => {
        if (handled++ === 0) await gate;
      },
    });
    const lag = async () => {
      const points = await telemetry.metricPoints();
      return points.find(
        (p) =>
          p.name === METRIC_CONSUMER_LAG && p.attributes['messaging.destination.name'] === topic,
      )?.value;
    };
    try {
      // Nothing committed while the first message is held: the whole log is lag.
      await waitFor(async () => (await lag()) === 30, { timeoutMs: 30_000, message: 'lag 30' });
      release();
      await waitFor(async () => (await lag()) === 0, { timeoutMs: 30_000, message: 'lag 0' });
      expect(handled).toBe(30);
    } finally {
      release();
      await lagAdmin.disconnect();
    }
  });

  it('moves 10,000 messages across two partitions with nothing lost or duplicated', async () => {
    const topic = await createTopic(2);
    const producer = await newProducer();
    const consumer = await newConsumer(topic, uniqueName('group'));
    const seen = new Set<string>();
    let deliveries = 0;
    await consumer.run({
      eachBatch: async (payload) => {
        for (const message of payload.batch.messages) {
          runInMessageContext(message, () => {
            seen.add(message.value?.toString() ?? '');
            deliveries++;
          });
          payload.resolveOffset(message.offset);
        }
        await payload.heartbeat();
      },
    });
    const total = 10_000;
    for (let start = 0; start < total; start += 1000) {
      await producer.sendBatch({
        topicMessages: [
          {
            topic,
            messages: Array.from({ length: 1000 }, (_, i) => ({ value: `n-${start + i}` })),
          },
        ],
      });
    }
    await waitFor(() => deliveries >= total, { timeoutMs: 50_000, message: `${total} deliveries` });
    expect(deliveries).toBe(total);
    expect(seen.size).toBe(total);
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, METRIC_SENT_MESSAGES)).toBe(total);
    expect(sumMetric(points, METRIC_CONSUMED_MESSAGES)).toBe(total);
  });

  it('records each auto-commit as a settle operation with the coordinator that took it', async () => {
    const topic = await createTopic();
    const group = uniqueName('group');
    const producer = await newProducer();
    const consumer = await newConsumer(topic, group);
    let handled = 0;
    await consumer.run({ eachMessage: async () => void handled++ });
    await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await waitFor(() => handled === 3, { timeoutMs: 30_000, message: '3 handled' });
    const commitPoints = async () =>
      (await telemetry.metricPoints()).filter(
        (p) =>
          p.name === METRIC_OPERATION_DURATION &&
          p.attributes['messaging.operation.name'] === 'commit' &&
          p.attributes['messaging.destination.name'] === topic,
      );
    // kafkajs auto-commits after each batch: its REQUEST and COMMIT_OFFSETS events.
    const points = await waitFor(
      async () => {
        const found = await commitPoints();
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, message: 'a commit point' },
    );
    const [point] = points;
    expect(point?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'settle',
      'messaging.consumer.group.name': group,
      'messaging.destination.partition.id': '0',
    });
    expect(point?.attributes['server.address']).toEqual(expect.any(String));
    expect(Number.isInteger(point?.attributes['server.port'])).toBe(true);
    expect(point?.attributes['error.type']).toBeUndefined();
  });

  it('reports kafkajs’s error type when a send names a topic the broker does not have', async () => {
    const raw = kafka.producer({
      allowAutoTopicCreation: false,
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
    });
    await raw.connect();
    producers.push(raw);
    const producer = traceProducer(raw, providers());
    const topic = uniqueName('baton-missing');
    await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow();
    const [send] = spansOf(SpanKind.PRODUCER);
    expect(send?.attributes['error.type']).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('passes binary values, keys and headers through byte for byte', async () => {
    const topic = await createTopic();
    const producer = await newProducer();
    const value = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x0a]);
    const key = Buffer.from([0xc3, 0x28]);
    const blob = Buffer.from([0x00, 0xff, 0xc0, 0xaf]);
    await producer.send({ topic, messages: [{ key, value, headers: { blob } }] });
    const consumer = await newConsumer(topic, uniqueName('group'));
    const received: Array<{ key: unknown; value: unknown; blob: unknown }> = [];
    await consumer.run({
      eachMessage: async ({ message }) =>
        void received.push({ key: message.key, value: message.value, blob: message.headers?.blob }),
    });
    await waitFor(() => received.length === 1, { timeoutMs: 30_000, message: 'the message' });
    const bytes = (b: unknown) => (Buffer.isBuffer(b) ? [...b] : b);
    expect(received.map((m) => [bytes(m.key), bytes(m.value), bytes(m.blob)])).toEqual([
      [[...key], [...value], [...blob]],
    ]);
    // The key is not UTF-8: it has no canonical string form, so no span carries it.
    for (const span of telemetry.spans()) {
      expect(span.attributes['messaging.kafka.message.key']).toBeUndefined();
    }
  });

  runConformanceSuite({
    name: '@baton/kafkajs against Kafka',
    // eachMessage throwing makes kafkajs restart the consumer from the last resolved offset.
    onHandlerError: 'redeliver',
    messageCount: 500,
    timeoutMs: 40_000,
    async createHarness(options) {
      const topic = uniqueName('baton-conformance');
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
      const raw = kafka.producer();
      await raw.connect();
      const producer = traceProducer(raw, options);
      let consumer: Consumer | undefined;
      return {
        async publish(body) {
          await producer.send({ topic, messages: [{ value: body }] });
        },
        async publishRaw(body, headers) {
          await raw.send({ topic, messages: [{ value: body, headers }] });
        },
        async startConsumer(handler) {
          const groupId = uniqueName('conformance');
          const plain = kafka.consumer({ groupId, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
          await plain.connect();
          consumer = traceConsumer(plain, { ...options, consumerGroup: groupId });
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({
            eachMessage: async ({ message }) => handler(message.value?.toString() ?? ''),
          });
        },
        async close() {
          await consumer?.disconnect();
          await raw.disconnect();
        },
      };
    },
  });
});
