import { checkReadiness } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { KafkaJSConnectionError, KafkaJSNonRetriableError } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { healthOf, traceConsumer } from '../src/index.js';
import { type FakeConsumer, FakeKafka } from './fake-kafka.js';

// healthOf follows the consumer through kafkajs's instrumentation events, which the fake
// emits in kafkajs's order (a crash: STOP, DISCONNECT, CRASH; its restart: CONNECT, join).
describe('healthOf (kafkajs)', () => {
  let telemetry: TestTelemetry;
  let kafka: FakeKafka;
  let consumer: FakeConsumer | undefined;
  beforeEach(() => {
    telemetry = createTestTelemetry();
    kafka = new FakeKafka({ retryBackoffMs: 20 });
    kafka.createTopic('t', 2);
  });
  afterEach(async () => {
    kafka.faults.brokerDown = undefined;
    await consumer?.disconnect();
    consumer = undefined;
    await telemetry.shutdown();
  });
  const options = () => ({
    ...telemetry.providers,
    lagIntervalMs: 10,
  });
  const send = (count: number, partition = 0) =>
    kafka.producer().send({
      topic: 't',
      messages: Array.from({ length: count }, (_, i) => ({ value: `${i}`, partition })),
    });

  it('reports a running, connected consumer per subscribed topic, with its last fetch', async () => {
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    expect(healthOf(consumer)).toEqual([]);
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'] });
    // Subscribed, not yet run: known, not running.
    expect(healthOf(consumer)).toMatchObject([{ destination: 't', running: false }]);
    expect(checkReadiness(healthOf(consumer)).ready).toBe(false);
    const before = Date.now();
    const handled: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => void handled.push(`${message.value}`),
    });
    await send(2);
    await waitFor(() => handled.length === 2);
    await waitFor(() => checkReadiness(healthOf(consumer ?? {}), { maxPollAgeMs: 5000 }).ready, {
      message: 'ready',
    });
    const [health] = healthOf(consumer);
    expect(health).toMatchObject({
      system: 'kafka',
      destination: 't',
      consumerGroup: 'g',
      running: true,
      connected: true,
    });
    expect(health?.lastPollAtMs).toBeGreaterThanOrEqual(before);
    expect(health?.lastError).toBeUndefined();
  });

  it('sums the latest lag readings of the topic over its partitions', async () => {
    await send(5, 0);
    await send(3, 1);
    consumer = traceConsumer(kafka.consumer({ groupId: 'g', maxBatchSize: 2 }), options());
    await consumer.subscribe({ topic: 't' });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await consumer.run({ eachBatch: () => gate });
    // The first batch of partition 0 is in the handler: 3 left there, partition 1 unread.
    await waitFor(() => healthOf(consumer ?? {})[0]?.lag === 3, { message: 'lag 3' });
    expect(checkReadiness(healthOf(consumer), { maxLag: 2 }).reasons).toEqual([
      'kafka t (g): lag 3 above 2',
    ]);
    release();
    await waitFor(() => healthOf(consumer ?? {})[0]?.lag === 0, { message: 'lag 0' });
  });

  it('is not ready while the broker is gone (crash loop), with the reason, and recovers', async () => {
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => checkReadiness(healthOf(consumer ?? {})).ready, { message: 'ready' });
    kafka.faults.brokerDown = new KafkaJSConnectionError('Connection error: ECONNREFUSED');
    const down = await waitFor(
      () => {
        const readiness = checkReadiness(healthOf(consumer ?? {}));
        return readiness.ready ? undefined : readiness;
      },
      { message: 'not ready' },
    );
    expect(down.reasons).toEqual([
      'kafka t (g): not connected to the broker',
      'kafka t (g): last error: KafkaJSConnectionError: Connection error: ECONNREFUSED',
    ]);
    expect(down.consumers[0]).toMatchObject({ running: true, connected: false });
    // Still down a while later: kafkajs keeps restarting, the consumer never connects.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(checkReadiness(healthOf(consumer)).ready).toBe(false);
    kafka.faults.brokerDown = undefined;
    await waitFor(() => checkReadiness(healthOf(consumer ?? {}), { maxPollAgeMs: 5000 }).ready, {
      message: 'ready again',
    });
  });

  it('reports a consumer that crashed for good as not running, with the error', async () => {
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({
      eachMessage: async () => {
        throw new KafkaJSNonRetriableError('poison');
      },
    });
    await send(1);
    await waitFor(() => consumer?.crashes.length === 1);
    expect(checkReadiness(healthOf(consumer)).reasons).toEqual([
      'kafka t (g): consumer not running',
      'kafka t (g): last error: KafkaJSNonRetriableError: poison',
    ]);
  });

  it('is not ready once stopped, and disconnected after disconnect', async () => {
    const traced = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await traced.connect();
    await traced.subscribe({ topics: ['t'] });
    await traced.run({ eachMessage: async () => {} });
    await waitFor(() => checkReadiness(healthOf(traced)).ready);
    await traced.stop();
    expect(healthOf(traced)).toMatchObject([{ running: false, connected: true }]);
    await traced.disconnect();
    expect(healthOf(traced)).toMatchObject([{ running: false, connected: false }]);
    // Run again: running and connected once it connected and joined.
    await traced.connect();
    await traced.run({ eachMessage: async () => {} });
    await waitFor(() => checkReadiness(healthOf(traced)).ready, { message: 'ready again' });
    consumer = traced;
  });

  it('is not ready when a running consumer stops fetching (a handler holds it)', async () => {
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['t'] });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await consumer.run({ eachMessage: () => held });
    await send(1);
    await waitFor(() => healthOf(consumer ?? {})[0]?.lastPollAtMs !== undefined);
    const later = () => Date.now() + 60_000;
    expect(
      checkReadiness(healthOf(consumer), { maxPollAgeMs: 30_000, now: later }).reasons,
    ).toEqual(['kafka t (g): no successful poll in the last 30000 ms']);
    release();
  });

  it('learns the topics from the group assignment when subscribed on the bare client', async () => {
    const bare = kafka.consumer({ groupId: 'g' });
    await bare.subscribe({ topics: ['t'] });
    consumer = traceConsumer(bare, options());
    await consumer.run({ eachMessage: async () => {} });
    // Running before the join: one entry for the consumer, its topics not known yet.
    expect(healthOf(consumer).map((h) => h.destination)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(\*|t)$/)]),
    );
    await waitFor(() => healthOf(consumer ?? {})[0]?.destination === 't', { message: 'topic t' });
  });

  it('is empty for anything but a traced consumer, and never throws', () => {
    const bare = kafka.consumer({ groupId: 'g' });
    traceConsumer(bare, options());
    expect(healthOf(bare)).toEqual([]);
    for (const value of [null, undefined, 42, 'x', {}]) {
      expect(healthOf(value as object)).toEqual([]);
    }
    const traced = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    for (const bad of [null, 42, { topics: 'nope' }, { topics: [1, null, ''] }]) {
      void (traced.subscribe as (s: unknown) => Promise<void>)(bad).catch(() => {});
    }
    expect(healthOf(traced)).toEqual([]);
  });
});
