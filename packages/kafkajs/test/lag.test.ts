import { METRIC_CONSUMER_LAG } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceConsumer } from '../src/index.js';
import { type FakeConsumer, FakeKafka } from './fake-kafka.js';

describe('baton.consumer.lag', () => {
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
    lagIntervalMs: 10,
  });
  const lagByPartition = async () => {
    const points = await telemetry.metricPoints();
    const lag: Record<string, number | undefined> = {};
    for (const p of points.filter((point) => point.name === METRIC_CONSUMER_LAG)) {
      lag[
        `${p.attributes['messaging.destination.name']}/${p.attributes['messaging.destination.partition.id']}/${p.attributes['messaging.consumer.group.name']}`
      ] = p.value;
    }
    return lag;
  };

  async function fill(topic: string, perPartition: number[]) {
    kafka.createTopic(topic, perPartition.length);
    const producer = kafka.producer();
    for (const [partition, count] of perPartition.entries()) {
      await producer.send({
        topic,
        messages: Array.from({ length: count }, (_, i) => ({ value: `${i}`, partition })),
      });
    }
  }

  it('reports per partition the high watermark minus the last offset of each batch', async () => {
    await fill('t', [5, 3]);
    consumer = traceConsumer(kafka.consumer({ groupId: 'g', maxBatchSize: 2 }), options());
    await consumer.subscribe({ topics: ['t'] });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await consumer.run({ eachBatch: () => gate });
    // The first batch of partition 0 (offsets 0-1 of 5) is in the handler: 3 are left.
    await waitFor(async () => (await lagByPartition())['t/0/g'] === 3, { message: 'lag 3' });
    release();
    await waitFor(async () => {
      const lag = await lagByPartition();
      return lag['t/0/g'] === 0 && lag['t/1/g'] === 0;
    });
  });

  it('reports eachMessage lag from the consumer’s END_BATCH_PROCESS events', async () => {
    await fill('t', [4]);
    consumer = traceConsumer(kafka.consumer({ groupId: 'g', maxBatchSize: 3 }), {
      ...options(),
      consumerGroup: 'g',
    });
    await consumer.subscribe({ topics: ['t'] });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let delivered = 0;
    await consumer.run({
      eachMessage: async () => {
        delivered++;
        if (delivered === 4) await gate; // hold the second batch: lag 0 is not reported yet
      },
    });
    await waitFor(async () => (await lagByPartition())['t/0/g'] === 1, { message: 'lag 1' });
    release();
    await waitFor(async () => (await lagByPartition())['t/0/g'] === 0, { message: 'lag 0' });
  });

  it('reads lag from an admin client at most once per interval, never per message', async () => {
    await fill('t', [50, 30]);
    const admin = kafka.admin();
    let reads = 0;
    const counted = {
      fetchTopicOffsets: admin.fetchTopicOffsets,
      fetchOffsets: (o: { groupId: string; topics?: string[] }) => {
        reads++;
        return admin.fetchOffsets(o);
      },
    };
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), {
      ...options(),
      lagIntervalMs: 50,
      lagAdmin: counted,
    });
    await consumer.subscribe({ topics: ['t'] });
    let delivered = 0;
    let hold: Promise<void> | undefined;
    let release: () => void = () => {};
    await consumer.run({
      eachMessage: async () => {
        delivered++;
        if (delivered === 79) {
          hold = new Promise<void>((resolve) => {
            release = resolve;
          });
          await hold;
        }
      },
    });
    const started = Date.now();
    // Held inside partition 1's only batch: the group has committed nothing there yet.
    await waitFor(async () => (await lagByPartition())['t/1/g'] === 30, { message: 'admin lag' });
    release();
    await waitFor(async () => (await lagByPartition())['t/1/g'] === 0, { message: 'lag 0' });
    const elapsed = Date.now() - started;
    expect(delivered).toBe(80);
    expect(reads).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
    expect(reads).toBeLessThan(delivered);
  });

  it('reports a failed admin read to onError and falls back to the batches’ lag', async () => {
    await fill('t', [4]);
    const failure = new Error('admin unreachable');
    const errors: Array<{ error: unknown; info: unknown }> = [];
    consumer = traceConsumer(kafka.consumer({ groupId: 'g', maxBatchSize: 3 }), {
      ...options(),
      lagAdmin: {
        fetchTopicOffsets: async () => Promise.reject(failure),
        fetchOffsets: async () => Promise.reject(failure),
      },
      onError: (error, info) => void errors.push({ error, info }),
    });
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(async () => errors.length > 0 && (await lagByPartition())['t/0/g'] === 0, {
      message: 'onError and the batches’ lag',
    });
    expect(errors[0]).toEqual({ error: failure, info: { operation: 'lag', consumerGroup: 'g' } });
  });
});
