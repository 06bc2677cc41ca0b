import {
  CONTEXT_FIELDS,
  createGroupConsumer,
  DEAD_LETTER_FIELDS,
  type GroupConsumer,
  type GroupConsumerOptions,
  traceProducer,
} from '@baton/ioredis';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('redis');

const record = (flat: string[]) =>
  Object.fromEntries(
    Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]),
  );

describe.skipIf(!url)('@baton/ioredis delivery guarantees against Redis', () => {
  let redis: Redis;
  let telemetry: TestTelemetry;
  let stream: string;
  let consumers: GroupConsumer[];
  const group = 'workers';

  beforeAll(() => {
    redis = new Redis(url!);
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    telemetry = createTestTelemetry();
    stream = uniqueName('baton-redis-reliability');
    consumers = [];
  });
  afterEach(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await redis.del(stream, `${stream}:dead-letter`);
    await telemetry.shutdown();
  });

  const providers = () => ({
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  });
  const consumerFor = (options: Partial<GroupConsumerOptions>) => {
    const consumer = createGroupConsumer(redis, {
      ...providers(),
      stream,
      group,
      createGroup: true,
      groupStartId: '0',
      claimIdleMs: 100,
      onError: () => {},
      ...options,
    });
    consumers.push(consumer);
    return consumer;
  };
  const processSpans = () => telemetry.spans().filter((s) => s.kind === SpanKind.CONSUMER);
  const sendSpans = () => telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
  const pendingCount = async () => Number(((await redis.xpending(stream, group)) as unknown[])[0]);

  it('redelivers an entry whose handler failed, in the original trace, with its delivery count', async () => {
    const deliveries: Array<{ count: number; traceId?: string }> = [];
    await consumerFor({
      eachEntry: (entry) => {
        deliveries.push({
          count: entry.deliveryCount,
          traceId: trace.getActiveSpan()?.spanContext().traceId,
        });
        if (deliveries.length === 1) throw new Error('first try fails');
      },
    }).start();
    await traceProducer(redis, providers()).add(stream, { job: 'retry-me' });
    await waitFor(() => processSpans().length === 2, { message: 'two process spans' });
    const [send] = sendSpans();
    const [failed, retried] = processSpans();
    expect(deliveries.map((d) => d.count)).toEqual([1, 2]);
    expect(deliveries.map((d) => d.traceId)).toEqual([
      send?.spanContext().traceId,
      send?.spanContext().traceId,
    ]);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['baton.message.delivery_count']).toBe(1);
    expect(retried?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(retried?.attributes['baton.message.delivery_count']).toBe(2);
    for (const span of [failed, retried]) {
      expect(span?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    }
    await waitFor(async () => (await pendingCount()) === 0, { message: 'the XACK' });
  });

  it('moves an entry to the dead-letter stream after maxDeliveries, with its context and the reason', async () => {
    let attempts = 0;
    await consumerFor({
      maxDeliveries: 3,
      eachEntry: () => {
        attempts += 1;
        throw new RangeError(`attempt ${attempts} failed`);
      },
    }).start();
    const id = await traceProducer(redis, providers()).add(stream, { job: 'poison' });
    const dead = `${stream}:dead-letter`;
    const [deadId, flat] = await waitFor(async () => (await redis.xrange(dead, '-', '+'))[0], {
      message: 'the dead-letter entry',
    });
    const fields = record(flat);
    const [send] = sendSpans();
    expect(attempts).toBe(3);
    expect(fields.job).toBe('poison');
    expect(fields.traceparent).toBe(
      `00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`,
    );
    const [[, original]] = (await redis.xrange(stream, '-', '+')) as [[string, string[]]];
    const originalContext = Object.entries(record(original)).filter(([name]) =>
      CONTEXT_FIELDS.includes(name),
    );
    expect(originalContext.length).toBeGreaterThanOrEqual(2);
    expect(fields).toMatchObject(Object.fromEntries(originalContext));
    expect(fields).toMatchObject({
      [DEAD_LETTER_FIELDS.reason]: 'handler-failed',
      [DEAD_LETTER_FIELDS.error]: 'RangeError: attempt 3 failed',
      [DEAD_LETTER_FIELDS.stream]: stream,
      [DEAD_LETTER_FIELDS.id]: id,
      [DEAD_LETTER_FIELDS.group]: group,
      [DEAD_LETTER_FIELDS.deliveries]: '3',
    });
    expect(await pendingCount()).toBe(0);
    // The dead-letter copy keeps the entry's creation context: its send is a CLIENT span.
    await waitFor(() => telemetry.spans().some((s) => s.name === `send ${dead}`));
    const deadSend = telemetry.spans().find((s) => s.name === `send ${dead}`);
    expect(deadSend?.kind).toBe(SpanKind.CLIENT);
    expect(deadSend?.attributes['messaging.message.id']).toBeUndefined();
    expect(deadSend?.spanContext().traceId).toBe(send?.spanContext().traceId);
    expect(deadSend?.links[0]?.context.spanId).toBe(send?.spanContext().spanId);
    expect(deadId).toMatch(/^\d+-\d+$/);
    expect(processSpans().map((s) => s.attributes['baton.message.delivery_count'])).toEqual([
      1, 2, 3,
    ]);
  });

  it('dead-letters an entry delivered too often without an ack, without running the handler', async () => {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    await traceProducer(redis, providers()).add(stream, { job: 'crashed-consumer' });
    // A consumer that crashes after each read: the entry is delivered and never acked.
    await redis.xreadgroup('GROUP', group, 'crashy', 'STREAMS', stream, '>');
    await redis.xclaim(
      stream,
      group,
      'crashy',
      0,
      (await redis.xrange(stream, '-', '+'))[0]![0],
      'RETRYCOUNT',
      2,
    );
    let handled = 0;
    await consumerFor({ maxDeliveries: 2, eachEntry: () => void handled++ }).start();
    const [, flat] = await waitFor(
      async () => (await redis.xrange(`${stream}:dead-letter`, '-', '+'))[0],
    );
    expect(record(flat)).toMatchObject({
      job: 'crashed-consumer',
      [DEAD_LETTER_FIELDS.reason]: 'max-deliveries',
      [DEAD_LETTER_FIELDS.deliveries]: '3',
    });
    expect(handled).toBe(0);
    expect(await pendingCount()).toBe(0);
  });

  it('loses nothing when a consumer is stopped and restarted mid-stream', async () => {
    const handled: string[] = [];
    let inHandler = 0;
    const options: Partial<GroupConsumerOptions> = {
      consumer: 'restartable',
      count: 25,
      claimIdleMs: 60_000, // only the restart itself may bring entries back
      eachEntry: async (entry) => {
        inHandler += 1;
        await new Promise((resolve) => setTimeout(resolve, 1));
        handled.push(entry.fields.n!);
        inHandler -= 1;
      },
    };
    const first = consumerFor(options);
    await first.start();
    const producer = traceProducer(redis, providers());
    const pipeline = redis.pipeline();
    for (let i = 0; i < 300; i++) producer.addTo(pipeline, stream, { n: String(i) });
    await pipeline.exec();
    await waitFor(() => handled.length >= 60);
    await first.stop();
    expect(inHandler).toBe(0);
    const handledBeforeRestart = handled.length;
    expect(handledBeforeRestart).toBeLessThan(300);
    // Handled entries were acknowledged; the rest are pending or not delivered yet.
    const pendingAfterStop = await pendingCount();
    const lagInfo = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    expect(pendingAfterStop + Number(lagInfo[0]?.[lagInfo[0].indexOf('lag') + 1])).toBe(
      300 - handledBeforeRestart,
    );
    await consumerFor(options).start();
    await waitFor(() => handled.length >= 300, { message: 'all 300 handled' });
    await waitFor(async () => (await pendingCount()) === 0, { message: 'all acked' });
    expect(handled.map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 300 }, (_, i) => i),
    );
    // Released entries never ran, so they do not count as a delivery.
    expect(processSpans().every((s) => s.attributes['baton.message.delivery_count'] === 1)).toBe(
      true,
    );
  });

  it('handles 10,000 entries with 5% failing once: all acked, none lost, only the failed twice', async () => {
    const total = 10_000;
    const failOnce = new Set(Array.from({ length: total / 20 }, (_, i) => String(i * 20 + 7)));
    const handled = new Map<string, number>();
    const failed = new Set<string>();
    await consumerFor({
      count: 200,
      claimIdleMs: 200,
      eachEntry: (entry) => {
        const n = entry.fields.n!;
        handled.set(n, (handled.get(n) ?? 0) + 1);
        if (failOnce.has(n) && !failed.has(n)) {
          failed.add(n);
          throw new Error(`entry ${n} fails once`);
        }
      },
    }).start();
    const producer = traceProducer(redis, providers());
    for (let batch = 0; batch < total; batch += 1000) {
      const pipeline = redis.pipeline();
      for (let i = batch; i < batch + 1000; i++) producer.addTo(pipeline, stream, { n: String(i) });
      await pipeline.exec();
    }
    await waitFor(
      () => handled.size === total && [...failOnce].every((n) => handled.get(n) === 2),
      {
        timeoutMs: 30_000,
        message: 'every entry handled, the failed ones twice',
      },
    );
    await waitFor(async () => (await pendingCount()) === 0, { message: 'every entry acked' });
    const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    expect(groups[0]?.[groups[0].indexOf('lag') + 1]).toBe(0);
    for (const [n, times] of handled) expect(times, `entry ${n}`).toBe(failOnce.has(n) ? 2 : 1);

    await waitFor(() => processSpans().length === total + failOnce.size);
    const sends = new Map(sendSpans().map((s) => [s.spanContext().spanId, s]));
    expect(sends.size).toBe(total);
    const processes = processSpans();
    for (const span of processes) {
      const parent = sends.get(span.parentSpanContext?.spanId ?? '');
      expect(parent?.spanContext().traceId).toBe(span.spanContext().traceId);
    }
    const failures = processes.filter((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failures).toHaveLength(failOnce.size);
    expect(failures.every((s) => s.attributes['baton.message.delivery_count'] === 1)).toBe(true);
    const redelivered = processes.filter((s) => s.attributes['baton.message.delivery_count'] === 2);
    expect(redelivered).toHaveLength(failOnce.size);
  }, 60_000);
});
