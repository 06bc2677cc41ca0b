import { resetWarnings, withCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { traceProducer } from '../src/index.js';
import { FakePipeline, FakeRedis, fieldPairs } from './fake-redis.js';

// ioredis 6 rejects with subclasses of redis-errors' ReplyError named 'ReplyError'.
class SimpleError extends Error {
  override get name() {
    return 'ReplyError';
  }
}

describe('traceProducer', () => {
  let telemetry: TestTelemetry;
  let redis: FakeRedis;
  beforeEach(() => {
    resetWarnings();
    telemetry = createTestTelemetry();
    redis = new FakeRedis();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await telemetry.shutdown();
  });
  const options = () => ({
    ...telemetry.providers,
  });
  const sendSpans = () => telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);

  it('appends the context fields to a copy of the arguments and records the entry id', async () => {
    const traced = traceProducer(redis, options());
    const args = ['orders', 'MAXLEN', '~', 5, '*', 'orderId', '42', 'blob', Buffer.from([0xff])];
    const copy = [...args];
    const id = await withCorrelationId('c-1', () => traced.xadd(...(args as [string])));
    const [send] = sendSpans();
    expect(id).toBe('1718000000000-0');
    expect(args).toEqual(copy);
    expect(redis.sent[0]?.slice(0, 9)).toEqual(args);
    expect(Object.fromEntries(fieldPairs(redis.sent[0]!, 4).slice(2))).toEqual({
      traceparent: `00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`,
      'x-correlation-id': 'c-1',
    });
    expect(send?.name).toBe('send orders');
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': 'orders',
      'messaging.message.id': '1718000000000-0',
      'server.address': 'redis.internal',
      'server.port': 6380,
    });
  });

  it('reads every XADD option before the id: the stream, an explicit id, the fields after it', async () => {
    const traced = traceProducer(redis, options());
    await traced.xadd(
      'a',
      'NOMKSTREAM',
      'MINID',
      '=',
      '17-0',
      'LIMIT',
      10,
      '1700000000000-5',
      'f',
      'v',
    );
    await traced.xadd(Buffer.from('b'), 'KEEPREF', 'IDMP', 'p1', 'i1', 'maxlen', 3, '*', 'f', 'v');
    await traced.xadd('c', ['*', 'f', 'v']);
    expect(sendSpans().map((s) => s.name)).toEqual(['send a', 'send b', 'send c']);
    expect(sendSpans()[0]?.attributes['messaging.message.id']).toBe('1700000000000-5');
    expect(redis.sent[0]?.slice(0, 9)).toEqual([
      'a',
      'NOMKSTREAM',
      'MINID',
      '=',
      '17-0',
      'LIMIT',
      10,
      '1700000000000-5',
      'f',
    ]);
    expect(fieldPairs(redis.sent[1]!, 7)[0]).toEqual(['f', 'v']);
    expect(fieldPairs(redis.sent[2]!, 1).map(([name]) => name)).toEqual([
      'f',
      'traceparent',
      'x-correlation-id',
    ]);
  });

  it('replaces a field named like a context field instead of sending it twice', async () => {
    const traced = traceProducer(redis, options());
    await traced.xadd('orders', '*', 'TraceParent', 'forged', 'a', '1', 'x-correlation-id', 'mine');
    const names = fieldPairs(redis.sent[0]!, 1).map(([name]) => String(name).toLowerCase());
    expect(names.filter((name) => name === 'traceparent')).toHaveLength(1);
    expect(names).toEqual(['a', 'traceparent', 'x-correlation-id']);
  });

  it('rejects with the client error unchanged; a Redis reply error is error.type ReplyError', async () => {
    const failure = new SimpleError('READONLY You can not write against a read only replica.');
    redis.reply = () => failure;
    const traced = traceProducer(redis, options());
    await expect(traced.xadd('orders', '*', 'a', '1')).rejects.toBe(failure);
    const [send] = sendSpans();
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.attributes['error.type']).toBe('ReplyError');
    const points = await telemetry.metricPoints();
    const duration = points.find((p) => p.name === 'messaging.client.operation.duration');
    expect(duration?.attributes['error.type']).toBe('ReplyError');
  });

  it('keeps the callback form: the callback gets the reply as the client gives it', async () => {
    const traced = traceProducer(redis, options());
    const replies: unknown[][] = [];
    const returned = traced.xadd('orders', '*', 'a', '1', (...reply: unknown[]) => {
      replies.push(reply);
    });
    await waitFor(() => replies.length === 1 && sendSpans().length === 1);
    expect(replies).toEqual([[null, '1718000000000-0']]);
    expect(sendSpans()[0]?.attributes['messaging.message.id']).toBe('1718000000000-0');
    await expect(returned).resolves.toBe('1718000000000-0');
    redis.reply = () => new Error('ERR boom');
    traced.xadd('orders', '*', 'a', '1', (...reply: unknown[]) => void replies.push(reply));
    await waitFor(() => replies.length === 2);
    expect(replies[1]?.[0]).toEqual(new Error('ERR boom'));
    expect(sendSpans()[1]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('sends an XADD it cannot read as is, untraced, with one warning', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const traced = traceProducer(redis, options());
    await traced.xadd('orders', 'FUTUREOPTION', '*', 'a', '1');
    await traced.xadd('orders', '*', 'dangling');
    expect(redis.sent).toEqual([
      ['orders', 'FUTUREOPTION', '*', 'a', '1'],
      ['orders', '*', 'dangling'],
    ]);
    expect(sendSpans()).toHaveLength(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/^@baton\/ioredis: an XADD/);
  });

  it('gives the publish hook the XADD arguments as the message', async () => {
    const messages: unknown[] = [];
    const traced = traceProducer(redis, {
      ...options(),
      publishHook: (_span, info) => void messages.push(info.message),
    });
    await traced.xadd('orders', '*', 'a', '1');
    expect(messages).toEqual([['orders', '*', 'a', '1']]);
  });

  it('is a view: the client is untouched, everything else is its own, chaining stays traced', async () => {
    const ownKeys = Object.keys(redis);
    const traced = traceProducer(redis, options());
    expect(traced).toBeInstanceOf(FakeRedis);
    expect(Object.keys(redis)).toEqual(ownKeys);
    expect(traced.on('error', () => {})).toBe(traced);
    expect(redis.listeners).toEqual(['error']);
    expect(traced.options).toBe(redis.options);
    await redis.xadd('orders', '*', 'raw', '1');
    await traced.on('ready', () => {}).xadd('orders', '*', 'traced', '1');
    expect(redis.sent.map((args) => args.length)).toEqual([4, 8]);
    // Tracing a view again traces once, with the new options.
    await traceProducer(traced, options()).xadd('orders', '*', 'again', '1');
    expect(sendSpans()).toHaveLength(2);
    expect(fieldPairs(redis.sent[2]!, 1).map(([name]) => name)).toEqual([
      'again',
      'traceparent',
      'x-correlation-id',
    ]);
  });

  it('traces xadd on pipeline() and multi(), chained after other commands too', async () => {
    const traced = traceProducer(redis, options());
    const pipeline = traced
      .pipeline()
      .set('k', 'v')
      .xadd('orders', '*', 'n', '1')
      .set('k', 'w')
      .xadd('orders', '*', 'n', '2');
    expect(pipeline).toBeInstanceOf(FakePipeline);
    expect(sendSpans()).toHaveLength(0);
    const results = await pipeline.exec();
    expect(results.map(([, value]) => value)).toEqual([
      'OK',
      '1718000000000-0',
      'OK',
      '1718000000000-0',
    ]);
    await waitFor(() => sendSpans().length === 2);
    expect(sendSpans()[0]?.attributes['messaging.message.id']).toBe('1718000000000-0');
    const transaction = traced.multi() as FakePipeline;
    await transaction.xadd('orders', '*', 'n', '3').exec();
    await waitFor(() => sendSpans().length === 3);
    // In a multi() the reply of each command is QUEUED, not an id.
    expect(sendSpans()[2]?.attributes['messaging.message.id']).toBeUndefined();
    const traceFields = ['n', 'traceparent', 'x-correlation-id'];
    expect(redis.sent.map((args) => fieldPairs(args, 1).map(([name]) => name))).toEqual([
      traceFields,
      traceFields,
      traceFields,
    ]);
  });

  it('traces xadd in the commands given to pipeline() and multi()', async () => {
    const traced = traceProducer(redis, options());
    await traced
      .pipeline([
        ['set', 'k', 'v'],
        ['xadd', 'orders', '*', 'n', '1'],
      ])
      .exec();
    await (traced.multi([['xadd', 'orders', '*', 'n', '2']]) as FakePipeline).exec();
    await waitFor(() => sendSpans().length === 2);
    expect(redis.sent).toHaveLength(2);
    expect(await traced.multi({ pipeline: false })).toBe('OK');
  });

  it('ends the span of a pipeline command whose reply is an error, leaving the error to exec()', async () => {
    redis.reply = () => new Error('ERR pipeline failed');
    const traced = traceProducer(redis, options());
    const results = await traced.pipeline().xadd('orders', '*', 'n', '1').exec();
    expect(results[0]?.[0]).toEqual(new Error('ERR pipeline failed'));
    await waitFor(() => sendSpans().length === 1);
    expect(sendSpans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('keeps the deprecated add and addTo for one release, with one warning each', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const traced = traceProducer(redis, options());
    expect(await traced.add('orders', { a: '1' }, { maxLen: 5, approximate: true })).toBe(
      '1718000000000-0',
    );
    await traced.add('orders', { a: '2' });
    const pipeline = redis.pipeline();
    expect(traced.addTo(pipeline, 'orders', { a: '3' }, { id: '1718000000000-1' })).toBe(pipeline);
    await pipeline.exec();
    await waitFor(() => sendSpans().length === 3);
    expect(redis.sent[0]?.slice(0, 7)).toEqual(['orders', 'MAXLEN', '~', 5, '*', 'a', '1']);
    expect(sendSpans()[2]?.attributes['messaging.message.id']).toBe('1718000000000-1');
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/^@baton\/ioredis: add\(\) .* deprecated/),
      expect.stringMatching(/^@baton\/ioredis: addTo\(\) .* deprecated/),
    ]);
  });

  it('records the id of xaddBuffer as text', async () => {
    const traced = traceProducer(redis, options());
    expect(await traced.xaddBuffer('orders', '*', 'a', '1')).toEqual(
      Buffer.from('1718000000000-0'),
    );
    expect(sendSpans()[0]?.attributes['messaging.message.id']).toBe('1718000000000-0');
  });
});
