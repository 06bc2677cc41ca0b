import {
  createConsumer,
  DEAD_LETTER_FIELDS,
  type StreamConsumer,
  type StreamEntry,
  traceHandler,
} from '@baton/ioredis';
import { assertContract, createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { REDIS_CLIENTS, replyEntries } from './redis-clients.js';

const url = await brokerOrSkip('redis');

type BufferReads = { xreadgroupBuffer(...args: string[]): Promise<unknown> };

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;
// Not UTF-8: decoding would turn each byte into U+FFFD.
const BINARY = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0xc3, 0x28]);
const BINARY_NAME = Buffer.from([0x6b, 0xc3, 0x28]);

describe.skipIf(!url).each(REDIS_CLIENTS)('@baton/ioredis entry fields with $name', (client) => {
  let redis: Redis;
  let telemetry: TestTelemetry;
  let stream: string;
  let consumers: StreamConsumer[];
  const group = 'fields';

  beforeAll(() => {
    redis = client.create(url!);
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    telemetry = createTestTelemetry();
    stream = uniqueName('baton-redis-fields');
    consumers = [];
  });
  afterEach(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await redis.del(stream, `${stream}:dead-letter`);
    await telemetry.shutdown();
  });

  const common = () => ({
    ...telemetry.providers,
    stream,
    consumerGroup: group,
    createGroup: true,
    groupStartId: '0',
    claimIdleMs: 60_000,
    onError: () => {},
  });
  const started = async (consumer: StreamConsumer) => {
    consumers.push(consumer);
    await consumer.start();
  };
  const processSpans = () => telemetry.spans().filter((s) => s.kind === SpanKind.CONSUMER);

  it('hands the handler the exact bytes of every payload field, repeated names included', async () => {
    const seen: Array<StreamEntry<Buffer>> = [];
    await started(createConsumer(redis, { ...common(), eachMessage: (e) => void seen.push(e) }));
    await redis.xadd(stream, '*', 'body', BINARY, BINARY_NAME, 'v', 'body', 'second');
    await waitFor(() => seen.length === 1);
    const [entry] = seen;
    expect(entry?.fields.body).toEqual(Buffer.from('second')); // the last value by name
    expect(entry?.fieldList).toEqual([
      [Buffer.from('body'), BINARY],
      [BINARY_NAME, Buffer.from('v')],
      [Buffer.from('body'), Buffer.from('second')],
    ]);
  });

  it('hands the handler UTF-8 strings when fieldEncoding is utf8', async () => {
    const seen: Array<StreamEntry<string>> = [];
    await started(
      createConsumer(redis, {
        ...common(),
        fieldEncoding: 'utf8',
        eachMessage: (entry) => void seen.push(entry),
      }),
    );
    await redis.xadd(stream, '*', 'text', 'naïve ☃', 'binary', BINARY);
    await waitFor(() => seen.length === 1);
    expect(seen[0]?.fields).toEqual({ text: 'naïve ☃', binary: BINARY.toString('utf8') });
  });

  const poisoned = () =>
    createConsumer(redis, {
      ...common(),
      maxDeliveries: 1,
      eachMessage: () => {
        throw new Error('poison');
      },
    });
  const deadLetter = () =>
    waitFor(async () => (await redis.xrangeBuffer(`${stream}:dead-letter`, '-', '+'))[0]?.[1], {
      message: 'the dead-letter entry',
    });
  const deadLetterSend = () =>
    waitFor(() => telemetry.spans().find((s) => s.name === `send ${stream}:dead-letter`), {
      message: 'the dead-letter send span',
    });

  it('dead-letters a byte-identical copy of the entry, then the reason, in a CLIENT send linked to its creation', async () => {
    await started(poisoned());
    const parent = traceparent(TRACE_A, 'b7ad6b7169203331');
    const id = await redis.xadd(
      stream,
      '*',
      'body',
      BINARY,
      BINARY_NAME,
      BINARY,
      'body',
      'again',
      'TraceParent',
      parent,
    );
    const dead = await deadLetter();
    const [, original] = (await redis.xrangeBuffer(stream, '-', '+'))[0]!;
    expect(dead.slice(0, original!.length)).toEqual(original);
    const added = dead.slice(original!.length).map((part) => part.toString());
    // The entry keeps its own creation context: nothing but the reason is added.
    expect(added.filter((_, i) => i % 2 === 0)).toEqual([
      DEAD_LETTER_FIELDS.reason,
      DEAD_LETTER_FIELDS.stream,
      DEAD_LETTER_FIELDS.id,
      DEAD_LETTER_FIELDS.group,
      DEAD_LETTER_FIELDS.deliveries,
      DEAD_LETTER_FIELDS.error,
    ]);
    expect(added[added.indexOf(DEAD_LETTER_FIELDS.id) + 1]).toBe(id);
    const [process] = processSpans();
    expect(process?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    const send = await deadLetterSend();
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.parentSpanContext?.spanId).toBe(process?.spanContext().spanId);
    expect(send.links.map((link) => link.context.spanId)).toEqual(['b7ad6b7169203331']);
    assertContract({ spans: telemetry.spans(), points: await telemetry.metricPoints() });
  });

  it('dead-letters an entry that carries no creation context in a PRODUCER send whose context it adds', async () => {
    await started(poisoned());
    await redis.xadd(stream, '*', 'body', BINARY, 'traceparent', 'garbage');
    const dead = await deadLetter();
    const [, original] = (await redis.xrangeBuffer(stream, '-', '+'))[0]!;
    expect(dead.slice(0, original!.length)).toEqual(original);
    const added = dead.slice(original!.length).map((part) => part.toString());
    const send = await deadLetterSend();
    expect(send.kind).toBe(SpanKind.PRODUCER);
    // After the entry's own garbage traceparent: the first valid one, the send's.
    expect(added.slice(0, 2)).toEqual([
      'traceparent',
      traceparent(send.spanContext().traceId, send.spanContext().spanId),
    ]);
    expect(added[2]).toBe('x-correlation-id');
    expect(added[4]).toBe(DEAD_LETTER_FIELDS.reason);
    assertContract({ spans: telemetry.spans(), points: await telemetry.metricPoints() });
  });

  it('continues the trace of the first valid traceparent when the field is repeated', async () => {
    await started(createConsumer(redis, { ...common(), eachMessage: () => {} }));
    const first = traceparent(TRACE_A, '1111111111111111');
    const second = traceparent(TRACE_B, '2222222222222222');
    await redis.xadd(stream, '*', 'n', '1', 'traceparent', 'garbage', 'traceparent', second);
    await redis.xadd(stream, '*', 'n', '2', 'traceparent', first, 'Traceparent', second);
    await waitFor(() => processSpans().length === 2);
    const parents = processSpans().map((s) => s.parentSpanContext);
    expect(parents.map((p) => [p?.traceId, p?.spanId])).toEqual([
      [TRACE_B, '2222222222222222'],
      [TRACE_A, '1111111111111111'],
    ]);
  });

  it('joins repeated tracestate fields and takes the first correlation id', async () => {
    await started(createConsumer(redis, { ...common(), eachMessage: () => {} }));
    await redis.xadd(
      stream,
      '*',
      'traceparent',
      traceparent(TRACE_A, '1111111111111111'),
      'tracestate',
      'a=1',
      'x-correlation-id',
      'first-id',
      'tracestate',
      'b=2',
      'x-correlation-id',
      'second-id',
    );
    await waitFor(() => processSpans().length === 1);
    const [process] = processSpans();
    expect(process?.parentSpanContext?.traceState?.serialize()).toBe('a=1,b=2');
    expect(process?.attributes['baton.correlation_id']).toBe('first-id');
  });

  it('traces entries your own loop read as Buffers, handing over their bytes', async () => {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    await redis.xadd(
      stream,
      '*',
      'body',
      BINARY,
      'traceparent',
      traceparent(TRACE_A, 'aaaaaaaaaaaaaaaa'),
    );
    const handle = traceHandler((entry: StreamEntry<Buffer>) => entry.fields.body, {
      tracerProvider: telemetry.tracerProvider,
      consumerGroup: group,
    });
    // ioredis 5 has xreadgroupBuffer without declaring it.
    const reply = await (redis as unknown as BufferReads).xreadgroupBuffer(
      'GROUP',
      group,
      'own',
      'STREAMS',
      stream,
      '>',
    );
    const [name, entries] = replyEntries<[Buffer, Buffer[]]>(reply)[0]!;
    const entry = entries[0]!;
    expect(handle(name, entry)).toEqual(BINARY);
    const [process] = processSpans();
    expect(process?.name).toBe(`process ${stream}`);
    expect(process?.attributes['messaging.message.id']).toBe(entry[0].toString());
    expect(process?.parentSpanContext?.spanId).toBe('aaaaaaaaaaaaaaaa');
  });
});
