import { METRIC_OPERATION_DURATION } from '@baton/core';
import { createTestTelemetry, type MetricPoint, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceConsumer, traceProducer } from '../src/index.js';
import { protocolError } from './fake/errors.js';
import { type FakeConsumer, FakeKafka } from './fake-kafka.js';

const NOT_UTF8 = Buffer.from([0xff, 0xfe, 0x80, 0x00]);
const commitPoints = (points: MetricPoint[]) =>
  points.filter(
    (p) =>
      p.name === METRIC_OPERATION_DURATION && p.attributes['messaging.operation.type'] === 'settle',
  );

describe('the telemetry contract on Kafka', () => {
  let telemetry: TestTelemetry;
  let kafka: FakeKafka;
  let consumer: FakeConsumer | undefined;
  beforeEach(() => {
    telemetry = createTestTelemetry();
    kafka = new FakeKafka();
  });
  afterEach(async () => {
    await consumer?.disconnect();
    consumer = undefined;
    await telemetry.shutdown();
  });
  const options = () => ({
    ...telemetry.providers,
  });
  const spanNamed = (name: string) => telemetry.spans().filter((s) => s.name === name);

  it('makes the send a CLIENT span linked to every create span when createSpans is on', async () => {
    const producer = traceProducer(kafka.producer(), { ...options(), createSpans: true });
    await producer.send({ topic: 't', messages: [{ value: '1' }, { value: '2' }, { value: '3' }] });
    await producer.send({ topic: 'u', messages: [{ value: 'alone' }] });
    for (const [topic, count] of [
      ['t', 3],
      ['u', 1],
    ] as const) {
      const creates = spanNamed(`create ${topic}`);
      const [send] = spanNamed(`send ${topic}`);
      expect(creates).toHaveLength(count);
      expect(creates.every((c) => c.kind === SpanKind.PRODUCER)).toBe(true);
      expect(send?.kind).toBe(SpanKind.CLIENT);
      expect(send?.links.map((l) => l.context.spanId).sort()).toEqual(
        creates.map((c) => c.spanContext().spanId).sort(),
      );
    }
  });

  it('leaves producer keys off spans when messageKeyAttribute is false', async () => {
    const producer = traceProducer(kafka.producer(), {
      ...options(),
      createSpans: true,
      messageKeyAttribute: false,
    });
    await producer.send({ topic: 't', messages: [{ key: 'user@example.com', value: 'v' }] });
    expect(telemetry.spans()).toHaveLength(2);
    for (const span of telemetry.spans()) {
      expect(span.attributes['messaging.kafka.message.key']).toBeUndefined();
    }
  });

  it('omits binary keys that are not UTF-8 and decodes the ones that are', async () => {
    const producer = traceProducer(kafka.producer(), { ...options(), createSpans: true });
    await producer.send({ topic: 't', messages: [{ key: NOT_UTF8, value: 'a' }] });
    await producer.send({ topic: 't', messages: [{ key: Buffer.from('ключ'), value: 'b' }] });
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => spanNamed('process t').length === 2);
    const keys = (name: string) =>
      spanNamed(name).map((s) => s.attributes['messaging.kafka.message.key']);
    expect(keys('send t')).toEqual([undefined, 'ключ']);
    expect(keys('create t')).toEqual([undefined, 'ключ']);
    expect(keys('process t')).toEqual([undefined, 'ключ']);
  });

  it('reports kafkajs’s protocol error type as error.type, the class name otherwise', async () => {
    const fake = kafka.producer();
    const producer = traceProducer(fake, options());
    const unknownTopic = protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3, true);
    const gone = new KafkaJSConnectionError('Connection error: ECONNREFUSED');
    kafka.faults.send.push(unknownTopic, gone);
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toBe(
      unknownTopic,
    );
    await expect(producer.send({ topic: 't', messages: [{ value: 'y' }] })).rejects.toBe(gone);
    const sends = spanNamed('send t');
    expect(sends.map((s) => s.attributes['error.type'])).toEqual([
      'UNKNOWN_TOPIC_OR_PARTITION',
      'KafkaJSConnectionError',
    ]);
    const points = (await telemetry.metricPoints()).filter(
      (p) => p.name === METRIC_OPERATION_DURATION,
    );
    expect(points.map((p) => p.attributes['error.type']).sort()).toEqual([
      'KafkaJSConnectionError',
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
  });

  it('reports the cause of kafkajs’s retries-exceeded error', async () => {
    const producer = traceProducer(kafka.producer(), options());
    const retries = { retryCount: 5, retryTime: 100 };
    const unknownTopic = protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3, true);
    const refused = new KafkaJSConnectionError('Connection error: ECONNREFUSED');
    kafka.faults.send.push(
      new KafkaJSNumberOfRetriesExceeded(unknownTopic, retries),
      new KafkaJSNumberOfRetriesExceeded(refused, retries),
    );
    for (const value of ['x', 'y']) {
      await expect(producer.send({ topic: 't', messages: [{ value }] })).rejects.toThrow();
    }
    expect(spanNamed('send t').map((s) => s.attributes['error.type'])).toEqual([
      'UNKNOWN_TOPIC_OR_PARTITION',
      'KafkaJSConnectionError',
    ]);
  });

  it('marks a batch that met a rebalance with REBALANCE_IN_PROGRESS', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ value: 'a' }] });
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['t'] });
    kafka.faults.heartbeat.push(protocolError('REBALANCE_IN_PROGRESS', 27, false));
    let calls = 0;
    await consumer.run({
      eachBatch: async ({ heartbeat }) => {
        calls++;
        await heartbeat();
      },
    });
    await waitFor(() => calls === 2 && spanNamed('process t').length === 2);
    const [failed, retried] = spanNamed('process t');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe('REBALANCE_IN_PROGRESS');
    expect(retried?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records each offset commit as a settle operation, timed by kafkajs, with its broker', async () => {
    kafka.createTopic('t', 2);
    await kafka.producer().send({
      topic: 't',
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 1 },
      ],
    });
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => kafka.groupOffsets('g').get('t:1') === 1);
    const points = commitPoints(await telemetry.metricPoints());
    expect(points.map((p) => p.attributes['messaging.destination.partition.id']).sort()).toEqual([
      '0',
      '1',
    ]);
    for (const point of points) {
      expect(point.attributes).toEqual({
        'messaging.system': 'kafka',
        'messaging.operation.name': 'commit',
        'messaging.operation.type': 'settle',
        'messaging.destination.name': 't',
        'messaging.destination.partition.id':
          point.attributes['messaging.destination.partition.id'],
        'messaging.consumer.group.name': 'g',
        'server.address': 'kafka-2.test',
        'server.port': 9093,
      });
      expect(point.histogram?.count).toBe(1);
      // kafkajs reported 1 ms queued + 3 ms round trip; Baton's own timing would be ~0.
      expect(point.histogram?.sum).toBeGreaterThanOrEqual(0.004);
      expect(point.histogram?.sum).toBeLessThan(0.5);
    }
  });

  it('takes a commit’s timing from its own request, never from a failed one', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    const fake = kafka.consumer({ groupId: 'g', maxBatchSize: 1 });
    consumer = traceConsumer(fake, options());
    await consumer.subscribe({ topics: ['t'] });
    fake.requestTiming.duration = 5000;
    kafka.faults.commit.push(protocolError('COORDINATOR_NOT_AVAILABLE', 15, true));
    let handled = 0;
    await consumer.run({
      eachMessage: async () => {
        handled++;
        if (handled === 2) fake.requestTiming.duration = 3; // `a` again, after the failed commit
      },
    });
    await waitFor(() => kafka.groupOffsets('g').get('t:0') === 2);
    const points = commitPoints(await telemetry.metricPoints());
    expect(points).toHaveLength(1);
    expect(points[0]?.histogram?.count).toBe(2);
    expect(points[0]?.histogram?.sum).toBeGreaterThanOrEqual(0.008);
    expect(points[0]?.histogram?.sum).toBeLessThan(1); // not the failed request's 5 s
    expect(handled).toBe(3); // the failed commit made kafkajs deliver `a` again
  });

  it('records a failed commitOffsets with its error type, and passes the error on', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ value: 'a' }] });
    const fake = kafka.consumer({ groupId: 'g' });
    consumer = traceConsumer(fake, options());
    await consumer.subscribe({ topics: ['t'] });
    let handled = 0;
    await consumer.run({ autoCommit: false, eachMessage: async () => void handled++ });
    await waitFor(() => handled === 1);
    const illegal = protocolError('ILLEGAL_GENERATION', 22, false);
    kafka.faults.commit.push(illegal);
    await expect(consumer.commitOffsets([{ topic: 't', partition: 0, offset: '1' }])).rejects.toBe(
      illegal,
    );
    await consumer.commitOffsets([{ topic: 't', partition: 0, offset: '1' }]);
    const points = commitPoints(await telemetry.metricPoints());
    expect(points.map((p) => [p.attributes['error.type'], p.histogram?.count])).toEqual([
      ['ILLEGAL_GENERATION', 1],
      [undefined, 1],
    ]);
    expect(points[0]?.attributes['messaging.consumer.group.name']).toBe('g');
    expect(points[0]?.attributes['messaging.destination.partition.id']).toBe('0');
    expect(points[0]?.attributes['server.address']).toBeUndefined(); // not known for a failure
  });

  it('records no commit that did not happen', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ value: 'a' }] });
    const fake = kafka.consumer({ groupId: 'g' });
    consumer = traceConsumer(fake, options());
    await consumer.subscribe({ topics: ['t'] });
    let handled = 0;
    await consumer.run({ autoCommit: false, eachMessage: async () => void handled++ });
    await waitFor(() => handled === 1);
    await consumer.stop();
    // kafkajs resolves commitOffsets without committing once the consumer stopped.
    await consumer.commitOffsets([{ topic: 't', partition: 0, offset: '1' }]);
    expect(kafka.groupOffsets('g').get('t:0')).toBeUndefined();
    expect(commitPoints(await telemetry.metricPoints())).toEqual([]);
  });
});
