import {
  createConsumer,
  DEAD_LETTER_FIELDS,
  type StreamConsumer,
  type StreamConsumerOptions,
  traceProducer,
} from '@baton/ioredis';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { groupInfo, REDIS_CLIENTS } from './redis-clients.js';

const url = await brokerOrSkip('redis');

const record = (flat: string[]) =>
  Object.fromEntries(
    Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]),
  );

describe.skipIf(!url).each(REDIS_CLIENTS)(
  '@baton/ioredis delivery guarantees against Redis with $name',
  (client) => {
    let redis: Redis;
    let telemetry: TestTelemetry;
    let stream: string;
    let consumers: StreamConsumer[];
    const group = 'workers';

    beforeAll(() => {
      redis = client.create(url!);
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
      ...telemetry.providers,
    });
    const consumerFor = (options: Partial<StreamConsumerOptions>) => {
      const consumer = createConsumer(redis, {
        ...providers(),
        stream,
        consumerGroup: group,
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
    const pendingCount = async () =>
      Number(((await redis.xpending(stream, group)) as unknown[])[0]);

    it('redelivers an entry whose handler failed, in the original trace, with its delivery count', async () => {
      const deliveries: Array<{ count: number; traceId?: string }> = [];
      await consumerFor({
        eachMessage: (entry) => {
          deliveries.push({
            count: entry.deliveryCount,
            traceId: trace.getActiveSpan()?.spanContext().traceId,
          });
          if (deliveries.length === 1) throw new Error('first try fails');
        },
      }).start();
      await traceProducer(redis, providers()).xadd(stream, '*', 'job', 'retry-me');
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
        eachMessage: () => {
          attempts += 1;
          throw new RangeError(`attempt ${attempts} failed`);
        },
      }).start();
      const id = await traceProducer(redis, providers()).xadd(stream, '*', 'job', 'poison');
      const dead = `${stream}:dead-letter`;
      const [, flat] = await waitFor(async () => (await redis.xrange(dead, '-', '+'))[0], {
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
      // The original fields first, as they were (context fields included), then Baton's.
      expect(flat.slice(0, original.length)).toEqual(original);
      expect(flat.slice(original.length).filter((_, i) => i % 2 === 0)).toEqual([
        ...Object.values(DEAD_LETTER_FIELDS).filter((name) => name !== DEAD_LETTER_FIELDS.error),
        DEAD_LETTER_FIELDS.error,
      ]);
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
      expect(processSpans().map((s) => s.attributes['baton.message.delivery_count'])).toEqual([
        1, 2, 3,
      ]);
    });

    it('dead-letters an entry delivered too often without an ack, without running the handler', async () => {
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
      await traceProducer(redis, providers()).xadd(stream, '*', 'job', 'crashed-consumer');
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
      await consumerFor({ maxDeliveries: 2, eachMessage: () => void handled++ }).start();
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
      const options: Partial<StreamConsumerOptions> = {
        consumer: 'restartable',
        count: 25,
        claimIdleMs: 60_000, // only the restart itself may bring entries back
        eachMessage: async (entry) => {
          inHandler += 1;
          await new Promise((resolve) => setTimeout(resolve, 1));
          handled.push(entry.fields.n!.toString());
          inHandler -= 1;
        },
      };
      const first = consumerFor(options);
      await first.start();
      const producer = traceProducer(redis, providers());
      const pipeline = producer.pipeline();
      for (let i = 0; i < 300; i++) pipeline.xadd(stream, '*', 'n', String(i));
      await pipeline.exec();
      await waitFor(() => handled.length >= 60);
      await first.stop();
      expect(inHandler).toBe(0);
      const handledBeforeRestart = handled.length;
      expect(handledBeforeRestart).toBeLessThan(300);
      // Handled entries were acknowledged; the rest are pending or not delivered yet.
      const pendingAfterStop = await pendingCount();
      const lag = Number((await groupInfo(redis, stream))?.lag);
      expect(pendingAfterStop + lag).toBe(300 - handledBeforeRestart);
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
  },
);
