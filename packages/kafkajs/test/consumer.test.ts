import { getCorrelationId, METRIC_TIME_IN_QUEUE, withCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceConsumer, traceProducer } from '../src/index.js';
import { type FakeConsumer, FakeKafka } from './fake-kafka.js';

const processSpans = (t: TestTelemetry) => t.spans().filter((s) => s.kind === SpanKind.CONSUMER);

describe('traceConsumer with eachMessage', () => {
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

  async function consume(
    topic: string,
    extra: Record<string, unknown> = {},
    handler: (message: { value: Buffer | null }) => Promise<void> | void = () => {},
  ) {
    consumer = traceConsumer(kafka.consumer({ groupId: 'g1' }), { ...options(), ...extra });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen: Array<{ value: string; traceId?: string; correlationId?: string }> = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({
          value: message.value?.toString() ?? '',
          traceId: trace.getActiveSpan()?.spanContext().traceId,
          correlationId: getCorrelationId(),
        });
        await handler(message);
      },
    });
    return seen;
  }

  it('runs each message in a process span that is a child of its send span', async () => {
    kafka.createTopic('orders', 2);
    const producer = traceProducer(kafka.producer(), options());
    await producer.send({
      topic: 'orders',
      messages: [{ key: 'k1', value: 'hello', partition: 1 }],
    });
    const seen = await consume('orders', { consumerGroup: 'g1' });
    await waitFor(() => processSpans(telemetry).length === 1);
    const [send] = telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
    const [process] = processSpans(telemetry);
    expect(process?.name).toBe('process orders');
    expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(seen[0]?.traceId).toBe(send?.spanContext().traceId);
    expect(process?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': '1',
      'messaging.consumer.group.name': 'g1',
      'messaging.kafka.offset': 0,
      'messaging.kafka.message.key': 'k1',
    });
    expect(process?.attributes['messaging.kafka.message.tombstone']).toBeUndefined();
  });

  it('learns the consumer group from the GROUP_JOIN event when no consumerGroup is given', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ value: null }] });
    await consume('t');
    await waitFor(() => processSpans(telemetry).length === 1);
    expect(processSpans(telemetry)[0]?.attributes).toMatchObject({
      'messaging.consumer.group.name': 'g1',
      'messaging.kafka.message.tombstone': true,
    });
  });

  it('leaves the key off process spans when messageKeyAttribute is false', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ key: 'secret', value: 'v' }] });
    await consume('t', { messageKeyAttribute: false });
    await waitFor(() => processSpans(telemetry).length === 1);
    expect(processSpans(telemetry)[0]?.attributes['messaging.kafka.message.key']).toBeUndefined();
  });

  it('records time in queue from the record timestamp', async () => {
    const tenSecondsAgo = String(Date.now() - 10_000);
    await kafka
      .producer()
      .send({ topic: 't', messages: [{ value: 'v', timestamp: tenSecondsAgo }] });
    await consume('t');
    await waitFor(() => processSpans(telemetry).length === 1);
    const points = await telemetry.metricPoints();
    const queue = points.find((p) => p.name === METRIC_TIME_IN_QUEUE);
    expect(queue?.histogram?.count).toBe(1);
    expect(queue?.histogram?.sum).toBeGreaterThanOrEqual(10);
    expect(queue?.histogram?.sum).toBeLessThan(30);
  });

  it('rethrows the handler’s error unchanged and the message is delivered again', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ value: 'flaky' }, { value: 'next' }] });
    const failure = new RangeError('handler bug');
    let failed = false;
    const seen = await consume('t', {}, () => {
      if (!failed) {
        failed = true;
        throw failure;
      }
    });
    await waitFor(() => seen.length === 3);
    expect(consumer?.crashes).toEqual([failure]);
    expect(consumer?.crashes[0]).toBe(failure);
    expect(seen.map((s) => s.value)).toEqual(['flaky', 'flaky', 'next']);
    const failedSpan = processSpans(telemetry).find((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failedSpan?.attributes['error.type']).toBe('RangeError');
  });

  it('leaves the caller’s run config untouched and stops listening on disconnect', async () => {
    const fake = kafka.consumer({ groupId: 'g' });
    const traced = traceConsumer(fake, options());
    const eachMessage = async () => {};
    const config = Object.freeze({ eachMessage });
    await traced.subscribe({ topics: ['t'] });
    await traced.run(config);
    expect(config.eachMessage).toBe(eachMessage);
    expect(fake.listenerCount(fake.events.END_BATCH_PROCESS)).toBe(1);
    await traced.disconnect();
    expect(fake.listenerCount(fake.events.END_BATCH_PROCESS)).toBe(0);
  });

  it('carries the correlation id when no tracer or meter provider is configured', async () => {
    const producer = traceProducer(kafka.producer());
    await withCorrelationId('no-sdk-7', () =>
      producer.send({ topic: 't', messages: [{ value: 'v' }] }),
    );
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }));
    await consumer.subscribe({ topics: ['t'] });
    const ids: Array<string | undefined> = [];
    await consumer.run({ eachMessage: async () => void ids.push(getCorrelationId()) });
    await waitFor(() => ids.length === 1);
    expect(ids).toEqual(['no-sdk-7']);
  });
});
