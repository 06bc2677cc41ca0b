import { withCorrelationId } from '@baton/core';
import { CONTEXT_FIELDS, traceProducer } from '@baton/ioredis';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { REDIS_CLIENTS } from './redis-clients.js';

const url = await brokerOrSkip('redis');

describe.skipIf(!url).each(REDIS_CLIENTS)('traceProducer against Redis with $name', (client) => {
  let redis: Redis;
  let telemetry: TestTelemetry;
  let stream: string;

  beforeAll(() => {
    redis = client.create(url!);
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    telemetry = createTestTelemetry();
    stream = uniqueName('baton-redis-producer');
  });
  afterEach(async () => {
    await redis.del(stream);
    await telemetry.shutdown();
  });

  const providers = () => ({
    ...telemetry.providers,
  });
  const byKind = (kind: SpanKind) => telemetry.spans().filter((s) => s.kind === kind);
  const entries = async () => (await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>;
  const fieldsOf = (flat: string[]) =>
    Object.fromEntries(
      Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]),
    );

  it('writes the context fields after the payload inside a send span', async () => {
    const traced = traceProducer(redis, providers());
    const args = ['orderId', '42', 'amount', 7] as const;
    const id = await withCorrelationId('order-42', () => traced.xadd(stream, '*', ...args));
    const [[entryId, flat]] = (await entries()) as [[string, string[]]];
    const [send] = byKind(SpanKind.PRODUCER);
    expect(entryId).toBe(id);
    expect(flat.slice(0, 4)).toEqual(['orderId', '42', 'amount', '7']);
    const { traceId, spanId } = send!.spanContext();
    expect(fieldsOf(flat.slice(4))).toEqual({
      traceparent: `00-${traceId}-${spanId}-01`,
      'x-correlation-id': 'order-42',
    });
    expect(args).toEqual(['orderId', '42', 'amount', 7]);
    expect(send?.name).toBe(`send ${stream}`);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.operation.type': 'send',
      'messaging.destination.name': stream,
      'messaging.message.id': id,
      'baton.correlation_id': 'order-42',
      'server.address': redis.options.host,
      'server.port': redis.options.port,
    });
  });

  it('is the client itself for everything but XADD, which stays untraced on the client', async () => {
    const traced = traceProducer(redis, providers());
    expect(Object.getPrototypeOf(traced)).toBe(Object.getPrototypeOf(redis));
    expect(await traced.set(`${stream}:k`, 'v')).toBe('OK');
    expect(await traced.get(`${stream}:k`)).toBe('v');
    await traced.del(`${stream}:k`);
    await redis.xadd(stream, '*', 'untraced', '1');
    const [[, flat]] = (await entries()) as [[string, string[]]];
    expect(flat).toEqual(['untraced', '1']);
    expect(byKind(SpanKind.PRODUCER)).toHaveLength(0);
  });

  it('writes baggage and tracestate fields from the active context', async () => {
    const producer = traceProducer(redis, providers());
    const tracer = telemetry.tracerProvider.getTracer('test');
    const root = tracer.startSpan('request');
    const traceState = trace.wrapSpanContext({
      ...root.spanContext(),
      traceState: { serialize: () => 'vendor=abc' } as never,
    });
    let ctx = trace.setSpan(context.active(), traceState);
    ctx = propagation.setBaggage(ctx, propagation.createBaggage({ tenant_id: { value: 't-1' } }));
    await context.with(ctx, () => producer.xadd(stream, '*', 'a', '1'));
    root.end();
    const [[, flat]] = (await entries()) as [[string, string[]]];
    expect(flat).toEqual(expect.arrayContaining(['baggage', 'tenant_id=t-1']));
    expect(flat).toEqual(expect.arrayContaining(['tracestate', 'vendor=abc']));
    expect(flat.filter((_, i) => i % 2 === 0).sort()).toEqual(['a', ...CONTEXT_FIELDS].sort());
  });

  it('passes MAXLEN ~ / MINID trimming and explicit ids through to XADD', async () => {
    const traced = traceProducer(redis, providers());
    await traced.xadd(stream, '1700000000000-1', 'n', '1');
    await traced.xadd(stream, '1700000000000-2', 'n', '2');
    await traced.xadd(stream, '1700000000001-*', 'n', '3');
    expect(await redis.xlen(stream)).toBe(3);
    await traced.xadd(stream, 'MAXLEN', '=', 2, '*', 'n', '4');
    expect(await redis.xlen(stream)).toBe(2);
    await traced.xadd(stream, 'MINID', '~', '1700000000001-0', '*', 'n', '5');
    const ids = (await entries()).map(([id]) => id);
    expect(ids[0]).toBe('1700000000001-0');
    const explicit = byKind(SpanKind.PRODUCER)[0];
    expect(explicit?.attributes['messaging.message.id']).toBe('1700000000000-1');
    const rejection = await traced.xadd(stream, '1-1', 'n', '6').catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(Error);
    expect(String(rejection)).toMatch(/ID/);
    // ioredis 5 rejects with ReplyError, ioredis 6 with its subclass SimpleError: one name.
    expect(byKind(SpanKind.PRODUCER).at(-1)?.attributes['error.type']).toBe('ReplyError');
  });

  it('honours NOMKSTREAM', async () => {
    const traced = traceProducer(redis, providers());
    expect(await traced.xadd(stream, 'NOMKSTREAM', '*', 'n', '1')).toBeNull();
    expect(await redis.exists(stream)).toBe(0);
  });

  it('traces XADDs queued on pipeline() and multi(), and the callback form', async () => {
    const traced = traceProducer(redis, providers());
    const results = await traced
      .pipeline()
      .xadd(stream, '*', 'n', '1')
      .incr(`${stream}:unrelated`)
      .xadd(stream, 'MAXLEN', '~', 10, '*', 'n', '2')
      .exec();
    await redis.del(`${stream}:unrelated`);
    const ids = (await entries()).map(([id]) => id);
    expect(results?.map(([, value]) => value)).toEqual([ids[0], 1, ids[1]]);
    await waitFor(() => byKind(SpanKind.PRODUCER).length === 2);
    expect(byKind(SpanKind.PRODUCER).map((s) => s.attributes['messaging.message.id'])).toEqual(ids);
    await traced.multi().xadd(stream, '*', 'n', '3').exec();
    await traced.pipeline([['xadd', stream, '*', 'n', '4']]).exec();
    const replied = await new Promise((resolve, reject) => {
      traced.xadd(stream, '*', 'n', '5', (error, id) => (error ? reject(error) : resolve(id)));
    });
    await waitFor(() => byKind(SpanKind.PRODUCER).length === 5);
    const written = await entries();
    expect(written.at(-1)?.[0]).toBe(replied);
    for (const [, flat] of written) expect(flat).toContain('traceparent');
  });
});
