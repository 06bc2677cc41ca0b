import { getCorrelationId, withCorrelationId } from '@baton/core';
import {
  type ConsumerErrorInfo,
  createConsumer,
  runInMessageContext,
  type StreamConsumer,
  type StreamConsumerOptions,
  type StreamEntry,
  traceHandler,
  traceProducer,
} from '@baton/ioredis';
import {
  assertContract,
  createTestTelemetry,
  sumMetric,
  type TestTelemetry,
  waitFor,
} from '@baton/testing';
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { groupInfo, REDIS_CLIENTS, replyEntries } from './redis-clients.js';

const url = await brokerOrSkip('redis');

describe.skipIf(!url).each(REDIS_CLIENTS)('@baton/ioredis against Redis with $name', (client) => {
  let redis: Redis;
  let telemetry: TestTelemetry;
  let stream: string;
  let consumers: StreamConsumer[];
  let clients: Redis[];
  const group = 'workers';

  beforeAll(() => {
    redis = client.create(url!);
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    telemetry = createTestTelemetry();
    stream = uniqueName('baton-redis');
    consumers = [];
    clients = [];
  });
  afterEach(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    for (const extra of clients) extra.disconnect();
    await redis.del(stream, `${stream}:dead-letter`);
    await telemetry.shutdown();
    vi.restoreAllMocks();
  });

  const providers = () => ({
    ...telemetry.providers,
  });
  const startConsumer = async (options: Partial<StreamConsumerOptions>) => {
    const consumer = createConsumer(redis, {
      ...providers(),
      stream,
      consumerGroup: group,
      createGroup: true,
      groupStartId: '0',
      claimIdleMs: 100,
      ...options,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  };
  const byKind = (kind: SpanKind) => telemetry.spans().filter((s) => s.kind === kind);
  const serverAttributes = () => ({
    'server.address': redis.options.host,
    'server.port': redis.options.port,
  });
  const pendingCount = async () => Number(((await redis.xpending(stream, group)) as unknown[])[0]);

  describe('group consumer', () => {
    it('handles each entry in a process span parented to its producer, without context fields', async () => {
      const seen: Array<{ entry: StreamEntry; traceId?: string; correlationId?: string }> = [];
      await startConsumer({
        eachMessage: (entry) => {
          seen.push({
            entry,
            traceId: trace.getActiveSpan()?.spanContext().traceId,
            correlationId: getCorrelationId(),
          });
        },
      });
      const producer = traceProducer(redis, providers());
      const id = await withCorrelationId('corr-7', () => producer.xadd(stream, '*', 'user', 'ada'));
      await waitFor(() => seen.length === 1 && byKind(SpanKind.CONSUMER).length === 1);
      const [send] = byKind(SpanKind.PRODUCER);
      const [process] = byKind(SpanKind.CONSUMER);
      expect(seen[0]?.entry).toMatchObject({
        stream,
        id,
        fields: { user: Buffer.from('ada') },
        deliveryCount: 1,
      });
      expect(seen[0]?.entry.timestampMs).toBe(Number(id?.split('-')[0]));
      expect(seen[0]?.traceId).toBe(send?.spanContext().traceId);
      expect(seen[0]?.correlationId).toBe('corr-7');
      expect(process?.name).toBe(`process ${stream}`);
      expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(process?.attributes).toMatchObject({
        'messaging.system': 'redis',
        'messaging.operation.type': 'process',
        'messaging.destination.name': stream,
        'messaging.consumer.group.name': group,
        'messaging.message.id': id,
        'baton.message.delivery_count': 1,
        'server.address': redis.options.host,
        'server.port': redis.options.port,
      });
      await waitFor(async () => (await pendingCount()) === 0, { message: 'the XACK' });
      const points = await telemetry.metricPoints();
      expect(
        sumMetric(points, 'baton.consumer.time_in_queue', { 'messaging.system': 'redis' }),
      ).toBe(1);
    });

    it('runs handlers outside the context start() was called in', async () => {
      const tracer = telemetry.tracerProvider.getTracer('test');
      const outer = tracer.startSpan('app startup');
      await context.with(trace.setSpan(context.active(), outer), () =>
        withCorrelationId('startup', () => startConsumer({ eachMessage: () => {} })),
      );
      outer.end();
      await traceProducer(redis, providers()).xadd(stream, '*', 'a', '1');
      await waitFor(() => byKind(SpanKind.CONSUMER).length === 1);
      const [send] = byKind(SpanKind.PRODUCER);
      const [process] = byKind(SpanKind.CONSUMER);
      // Linked to its creation context only: not to the span start() was called in.
      expect(process?.links.map((l) => l.context.spanId)).toEqual([send?.spanContext().spanId]);
      expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(process?.attributes['baton.correlation_id']).not.toBe('startup');
    });

    // This test's consumer's connections blocked in XREADGROUP, by name, in CLIENT LIST.
    const blockedReads = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter(
          (line) =>
            line.includes(`name=${stream}`) &&
            line.includes('cmd=xreadgroup') &&
            /\bflags=\w*b/.test(line),
        );
    const namedConsumerClient = () => {
      const named = client.create(url!, { connectionName: stream });
      clients.push(named);
      return named;
    };

    it('ends a blocked read when it stops, and can start again', async () => {
      const handled: string[] = [];
      const consumer = createConsumer(namedConsumerClient(), {
        ...providers(),
        stream,
        consumerGroup: group,
        createGroup: true,
        groupStartId: '0',
        blockMs: 600_000, // a read that only stop() can end in this test
        claimIdleMs: 600_000,
        eachMessage: (entry) => void handled.push(entry.fields.n!.toString()),
      });
      consumers.push(consumer);
      await consumer.start();
      await waitFor(async () => (await blockedReads()).length === 1, { message: 'a blocked read' });
      await consumer.stop();
      expect(await blockedReads()).toEqual([]);
      await redis.xadd(stream, '*', 'n', 'after-stop');
      expect(Number((await groupInfo(redis, stream))?.lag)).toBe(1); // nobody read it
      await Promise.all([consumer.start(), consumer.start()]);
      await waitFor(() => handled.length === 1);
      expect(handled).toEqual(['after-stop']);
    });

    it('keeps consuming after its blocking connection is killed', async () => {
      const handled: string[] = [];
      const consumer = createConsumer(namedConsumerClient(), {
        ...providers(),
        stream,
        consumerGroup: group,
        createGroup: true,
        groupStartId: '0',
        blockMs: 600_000,
        claimIdleMs: 600_000,
        onError: () => {},
        eachMessage: (entry) => void handled.push(entry.fields.n!.toString()),
      });
      consumers.push(consumer);
      await consumer.start();
      const [line] = await waitFor(async () => {
        const lines = await blockedReads();
        return lines.length === 1 ? lines : undefined;
      });
      const id = /\bid=(\d+)/.exec(line!)?.[1];
      await redis.client('KILL', 'ID', id!);
      await redis.xadd(stream, '*', 'n', 'after-kill');
      await waitFor(() => handled.includes('after-kill'), { message: 'the entry handled' });
      await waitFor(async () => (await pendingCount()) === 0, { message: 'the XACK' });
      // The new connection's read is ended by stop() as well.
      await waitFor(async () => (await blockedReads()).length === 1, { message: 'a new read' });
      await consumer.stop();
      expect(await blockedReads()).toEqual([]);
    });

    it('starts a new trace when the traceparent field is malformed, and still runs the handler', async () => {
      const bodies: string[] = [];
      await startConsumer({
        eachMessage: (entry) => void bodies.push(entry.fields.body!.toString()),
      });
      await redis.xadd(stream, '*', 'body', 'bad', 'traceparent', '00-zz-not-valid-01');
      await waitFor(() => bodies.length === 1 && byKind(SpanKind.CONSUMER).length === 1);
      const [process] = byKind(SpanKind.CONSUMER);
      expect(bodies).toEqual(['bad']);
      expect(process?.parentSpanContext).toBeUndefined();
      await waitFor(async () => (await pendingCount()) === 0, { message: 'the XACK' });
    });

    it('runs a batch in one span that links every producer, each entry in its own context', async () => {
      const producer = traceProducer(redis, providers());
      await Promise.all(['a', 'b', 'c'].map((n) => producer.xadd(stream, '*', 'n', n)));
      const inOwnTrace: Array<string | undefined> = [];
      const batches: string[][] = [];
      await startConsumer({
        count: 10,
        eachBatch: (entries) => {
          batches.push(entries.map((entry) => entry.fields.n!.toString()));
          for (const entry of entries) {
            runInMessageContext(entry, () =>
              inOwnTrace.push(trace.getActiveSpan()?.spanContext().traceId),
            );
          }
        },
      });
      await waitFor(() => byKind(SpanKind.CONSUMER).length === 1);
      const sends = byKind(SpanKind.PRODUCER);
      const [batch] = byKind(SpanKind.CONSUMER);
      expect(batches).toEqual([['a', 'b', 'c']]);
      expect(batch?.attributes['messaging.batch.message_count']).toBe(3);
      expect(batch?.links.map((l) => l.context.spanId).sort()).toEqual(
        sends.map((s) => s.spanContext().spanId).sort(),
      );
      expect(inOwnTrace.sort()).toEqual(sends.map((s) => s.spanContext().traceId).sort());
      await waitFor(async () => (await pendingCount()) === 0, { message: 'the XACK' });
    });

    it('handles entries concurrently when asked, acknowledging each', async () => {
      const producer = traceProducer(redis, providers());
      let running = 0;
      let most = 0;
      const done = new Set<string>();
      await startConsumer({
        count: 20,
        concurrency: 5,
        eachMessage: async (entry) => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running -= 1;
          done.add(entry.id);
        },
      });
      const pipeline = producer.pipeline();
      for (let i = 0; i < 40; i++) pipeline.xadd(stream, '*', 'i', String(i));
      await pipeline.exec();
      await waitFor(() => done.size === 40);
      expect(most).toBeGreaterThan(1);
      expect(most).toBeLessThanOrEqual(5);
      await waitFor(async () => (await pendingCount()) === 0, { message: 'the XACKs' });
    });

    it('reports lag and pending from XINFO GROUPS', async () => {
      const producer = traceProducer(redis, providers());
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      await startConsumer({ count: 1, lagIntervalMs: 50, eachMessage: () => gate });
      for (let i = 0; i < 5; i++) await producer.xadd(stream, '*', 'i', String(i));
      const gauge = async (name: string) => {
        const points = await telemetry.metricPoints();
        return points.find(
          (p) => p.name === name && p.attributes['messaging.destination.name'] === stream,
        );
      };
      // One entry in the handler (pending), four not delivered yet (lag).
      await waitFor(async () => (await gauge('baton.consumer.lag'))?.value === 4, {
        message: 'lag 4',
      });
      await waitFor(async () => (await gauge('baton.consumer.pending'))?.value === 1);
      expect((await gauge('baton.consumer.lag'))?.attributes).toMatchObject({
        'messaging.system': 'redis',
        'messaging.consumer.group.name': group,
      });
      release();
      await waitFor(async () => (await gauge('baton.consumer.lag'))?.value === 0, {
        message: 'lag 0',
      });
      await waitFor(async () => (await gauge('baton.consumer.pending'))?.value === 0);
    });

    it('times each XACK as a settle, and reports one that fails with its error.type', async () => {
      const errors: ConsumerErrorInfo[] = [];
      let handled = 0;
      await startConsumer({
        onError: (_error, info) => void errors.push(info),
        eachMessage: async () => {
          handled += 1;
          // The second entry's stream turns into a string under it: its XACK fails.
          if (handled === 2) await redis.multi().del(stream).set(stream, 'not a stream').exec();
        },
      });
      const traced = traceProducer(redis, providers());
      await traced.xadd(stream, '*', 'n', '1');
      await waitFor(async () => handled === 1 && (await pendingCount()) === 0, {
        message: 'the first XACK',
      });
      await traced.xadd(stream, '*', 'n', '2');
      await waitFor(() => errors.some((info) => info.operation === 'settle'), {
        message: 'the failed XACK reported',
      });
      const settles = (await telemetry.metricPoints()).filter(
        (p) =>
          p.name === 'messaging.client.operation.duration' &&
          p.attributes['messaging.operation.type'] === 'settle',
      );
      const base = {
        'messaging.system': 'redis',
        'messaging.operation.name': 'ack',
        'messaging.destination.name': stream,
        'messaging.consumer.group.name': group,
      };
      expect(settles.map((p) => p.attributes)).toEqual([
        expect.objectContaining(base),
        {
          ...base,
          ...serverAttributes(),
          'messaging.operation.type': 'settle',
          'error.type': 'ReplyError',
        },
      ]);
      expect(settles.map((p) => p.histogram?.count)).toEqual([1, 1]);
      expect(errors.find((info) => info.operation === 'settle')).toMatchObject({
        destination: stream,
        consumerGroup: group,
      });
      assertContract({ spans: telemetry.spans(), points: await telemetry.metricPoints() });
    });

    it('reads XINFO GROUPS on its interval, not per message', async () => {
      const producer = traceProducer(redis, providers());
      const xinfo = vi.spyOn(redis, 'xinfo');
      let handled = 0;
      await startConsumer({ lagIntervalMs: 600_000, eachMessage: () => void handled++ });
      await waitFor(() => xinfo.mock.calls.length === 1, { message: 'the first XINFO' });
      const pipeline = producer.pipeline();
      for (let i = 0; i < 200; i++) pipeline.xadd(stream, '*', 'i', String(i));
      await pipeline.exec();
      await waitFor(() => handled === 200);
      await telemetry.metricPoints();
      expect(xinfo.mock.calls.length).toBe(1);
    });
  });

  describe('traceHandler', () => {
    it('runs a handler of your own XREADGROUP loop in the entry context', async () => {
      const producer = traceProducer(redis, providers());
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
      await withCorrelationId('own-loop', () => producer.xadd(stream, '*', 'job', 'x'));
      const handle = traceHandler(
        (entry) => ({ fields: entry.fields, correlationId: getCorrelationId() }),
        { ...providers(), consumerGroup: group, client: redis },
      );
      const reply = await redis.xreadgroup('GROUP', group, 'me', 'STREAMS', stream, '>');
      const [name, [entry]] = replyEntries<[string, string[]]>(reply)[0]!;
      const result = handle(name, entry!, { deliveryCount: 1 });
      expect(result).toEqual({ fields: { job: 'x' }, correlationId: 'own-loop' });
      const [send] = byKind(SpanKind.PRODUCER);
      const [process] = byKind(SpanKind.CONSUMER);
      expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(process?.attributes['messaging.consumer.group.name']).toBe(group);
      expect(handle(name, entry!, {})).toEqual({ fields: { job: 'x' }, correlationId: 'own-loop' });
      const failing = traceHandler(() => {
        throw new TypeError('mine');
      }, providers());
      expect(() => failing(name, entry!)).toThrow(TypeError);
      const spans: ReadableSpan[] = byKind(SpanKind.CONSUMER);
      expect(spans.at(-1)?.attributes['error.type']).toBe('TypeError');
    });
  });
});
