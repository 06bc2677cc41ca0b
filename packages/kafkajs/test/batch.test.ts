import { getCorrelationId, METRIC_CONSUMED_MESSAGES, withCorrelationId } from '@baton/core';
import { createTestTelemetry, sumMetric, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  messageContextOf,
  runInMessageContext,
  traceConsumer,
  traceProducer,
} from '../src/index.js';
import { type FakeBatchPayload, type FakeConsumer, FakeKafka } from './fake-kafka.js';

describe('traceConsumer with eachBatch', () => {
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

  async function publishThree() {
    const producer = traceProducer(kafka.producer(), options());
    for (const id of ['c-1', 'c-2', 'c-3']) {
      await withCorrelationId(id, () =>
        producer.send({ topic: 'jobs', messages: [{ value: id }] }),
      );
    }
    return telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
  }

  it('runs a batch in one process span with a link to each message’s send span', async () => {
    const sends = await publishThree();
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), { ...options(), groupId: 'g' });
    await consumer.subscribe({ topics: ['jobs'] });
    let batches = 0;
    await consumer.run({ eachBatch: async () => void batches++ });
    await waitFor(() => telemetry.spans().some((s) => s.kind === SpanKind.CONSUMER));
    const processes = telemetry.spans().filter((s) => s.kind === SpanKind.CONSUMER);
    expect(batches).toBe(1);
    expect(processes).toHaveLength(1);
    const [batch] = processes;
    expect(batch?.name).toBe('process jobs');
    expect(batch?.attributes).toMatchObject({
      'messaging.batch.message_count': 3,
      'messaging.consumer.group.name': 'g',
      'messaging.destination.partition.id': '0',
    });
    expect(batch?.links.map((l) => l.context.spanId)).toEqual(
      sends.map((s) => s.spanContext().spanId),
    );
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, METRIC_CONSUMED_MESSAGES)).toBe(3);
  });

  it('runs the code for message i inside message i’s own trace and correlation id', async () => {
    const sends = await publishThree();
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['jobs'] });
    const seen: Array<{ value: string; traceId?: string; correlationId?: string }> = [];
    const inner = telemetry.tracerProvider.getTracer('user');
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          await runInMessageContext(message, async () => {
            inner.startSpan('user work').end();
            seen.push({
              value: message.value?.toString() ?? '',
              traceId: trace.getActiveSpan()?.spanContext().traceId,
              correlationId: getCorrelationId(),
            });
          });
        }
      },
    });
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(
      sends.map((send, i) => ({
        value: `c-${i + 1}`,
        traceId: send.spanContext().traceId,
        correlationId: `c-${i + 1}`,
      })),
    );
    const work = telemetry.spans().filter((s) => s.name === 'user work');
    expect(work.map((w) => w.parentSpanContext?.spanId)).toEqual(
      sends.map((s) => s.spanContext().spanId),
    );
  });

  it('gives a message’s context with messageContextOf, and runs fn plainly for other objects', async () => {
    const sends = await publishThree();
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['jobs'] });
    const ids: Array<string | undefined> = [];
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const [first, , third] = batch.messages;
        ids.push(
          trace.getSpanContext(third ? (messageContextOf(third) ?? ({} as never)) : ({} as never))
            ?.spanId,
        );
        ids.push(first && runInMessageContext(first, () => getCorrelationId()));
      },
    });
    await waitFor(() => ids.length === 2);
    expect(ids).toEqual([sends[2]?.spanContext().spanId, 'c-1']);
    const stranger = { key: null, value: null, offset: '0' };
    expect(runInMessageContext(stranger, () => 'ran')).toBe('ran');
    expect(messageContextOf(stranger)).toBeUndefined();
  });

  it('leaves resolveOffset, heartbeat and isRunning exactly as the client made them', async () => {
    const producer = kafka.producer();
    await producer.send({
      topic: 'jobs',
      messages: ['m0', 'm1', 'm2', 'm3'].map((value) => ({ value })),
    });
    const fake = kafka.consumer({ groupId: 'g' });
    consumer = traceConsumer(fake, options());
    await consumer.subscribe({ topics: ['jobs'] });
    const batches: string[][] = [];
    const running: boolean[] = [];
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async (payload: FakeBatchPayload) => {
        batches.push(payload.batch.messages.map((m) => m.value?.toString() ?? ''));
        running.push(payload.isRunning());
        await payload.heartbeat();
        // Resolve only the first two: the client must deliver the rest again.
        for (const message of payload.batch.messages.slice(0, 2)) {
          payload.resolveOffset(message.offset);
        }
      },
    });
    await waitFor(() => kafka.groupOffsets('g').get('jobs:0') === 4);
    expect(batches).toEqual([
      ['m0', 'm1', 'm2', 'm3'],
      ['m2', 'm3'],
    ]);
    expect(fake.heartbeats).toBeGreaterThanOrEqual(2);
    expect(running.every(Boolean)).toBe(true);
  });

  it('rethrows the batch handler’s error unchanged and the batch is delivered again', async () => {
    await kafka.producer().send({ topic: 'jobs', messages: [{ value: 'a' }, { value: 'b' }] });
    const fake = kafka.consumer({ groupId: 'g' });
    consumer = traceConsumer(fake, options());
    await consumer.subscribe({ topics: ['jobs'] });
    const failure = new Error('batch failed');
    let calls = 0;
    await consumer.run({
      eachBatch: async () => {
        calls++;
        if (calls === 1) throw failure;
      },
    });
    await waitFor(() => calls === 2);
    expect(fake.crashes).toEqual([failure]);
    expect(fake.crashes[0]).toBe(failure);
  });
});
