import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { METRIC_OPERATION_DURATION } from '@baton/core';
import { sumMetric } from '@baton/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import { type AmqplibErrorInfo, type AmqpMessage, traceChannel } from '../src/index.js';
import { FakeChannel } from './fake-channel.js';
import { useTracedChannels } from './traced.js';

const { telemetry, wrap, ofKind, eventsOf, roundTrip } = useTracedChannels();

describe('traceChannel consume (manual settling)', () => {
  it('runs the handler in a process span under the send span and returns its result', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    let seen: string | undefined;
    await channel.consume('jobs', () => {
      seen = trace.getActiveSpan()?.spanContext().traceId;
      return 'handler result';
    });
    const msg = roundTrip(channel, raw);
    expect(raw.deliver(msg)).toBe('handler result');
    const [send] = ofKind(SpanKind.PRODUCER);
    const [process] = ofKind(SpanKind.CONSUMER);
    expect(process?.name).toBe('process jobs');
    expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(seen).toBe(send?.spanContext().traceId);
    expect(process?.attributes['baton.correlation_id']).toBe('corr-7');
    expect(raw.settles).toEqual([]); // manual mode never settles on its own
  });

  it('rethrows the handler error unchanged and marks the process span', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    const failure = new TypeError('bad payload');
    await channel.consume('jobs', () => {
      throw failure;
    });
    expect(() => raw.deliver(roundTrip(channel, raw))).toThrow(failure);
    const [process] = ofKind(SpanKind.CONSUMER);
    expect(process?.status.code).toBe(SpanStatusCode.ERROR);
    expect(process?.attributes['error.type']).toBe('TypeError');
  });

  it('reports a rejected handler promise through onError instead of leaving it unhandled, and leaves the message to the handler', async () => {
    const raw = new FakeChannel();
    const reports: Array<[unknown, AmqplibErrorInfo]> = [];
    const channel = wrap(raw, { onError: (error, info) => reports.push([error, info]) });
    const failure = new RangeError('async failure');
    await channel.consume('jobs', async () => {
      throw failure;
    });
    const msg = roundTrip(channel, raw);
    await expect(raw.deliver(msg)).resolves.toBeUndefined();
    expect(reports).toEqual([
      [failure, { operation: 'process', destination: 'jobs', queue: 'jobs', message: msg }],
    ]);
    expect(raw.settles).toEqual([]);
    const [process] = ofKind(SpanKind.CONSUMER);
    expect(process?.status.code).toBe(SpanStatusCode.ERROR);
    expect(process?.attributes['error.type']).toBe('RangeError');
  });

  it('records a settle inside the handler as an event and a later one as a span', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    const later: AmqpMessage[] = [];
    await channel.consume('jobs', (msg) => {
      if (!msg) return;
      if (msg.content.toString() === 'now') channel.ack(msg);
      else later.push(msg);
    });
    raw.deliver(roundTrip(channel, raw, 'now'));
    raw.deliver(roundTrip(channel, raw, 'later'));
    channel.reject(later[0] as AmqpMessage, false);
    expect(raw.settles.map((s) => s.op)).toEqual(['ack', 'reject']);
    expect(eventsOf('ack')).toHaveLength(1);
    const [reject] = telemetry()
      .spans()
      .filter((s) => s.name === 'reject jobs');
    const laterProcess = ofKind(SpanKind.CONSUMER)[1];
    expect(reject?.kind).toBe(SpanKind.CLIENT);
    expect(reject?.parentSpanContext?.spanId).toBe(laterProcess?.spanContext().spanId);
    expect(reject?.attributes['baton.rabbitmq.settle.requeue']).toBe(false);
    const points = await telemetry().metricPoints();
    expect(
      sumMetric(points, METRIC_OPERATION_DURATION, { 'messaging.operation.name': 'ack' }),
    ).toBe(1);
    expect(
      sumMetric(points, METRIC_OPERATION_DURATION, { 'messaging.operation.name': 'reject' }),
    ).toBe(1);
  });

  it('records only the settle metric when spans are not recorded (no SDK)', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw, { meterProvider: telemetry().meterProvider });
    const later: AmqpMessage[] = [];
    await channel.consume('jobs', (msg) => {
      if (msg?.content.toString() === 'now') channel.ack(msg);
      else if (msg) later.push(msg);
    });
    raw.deliver(roundTrip(channel, raw, 'now'));
    raw.deliver(roundTrip(channel, raw, 'later'));
    channel.nack(later[0] as AmqpMessage);
    expect(raw.settles.map((s) => s.op)).toEqual(['ack', 'nack']);
    expect(telemetry().spans()).toEqual([]);
    const points = await telemetry().metricPoints();
    expect(
      sumMetric(points, METRIC_OPERATION_DURATION, { 'messaging.operation.name': 'ack' }),
    ).toBe(1);
    expect(
      sumMetric(points, METRIC_OPERATION_DURATION, { 'messaging.operation.name': 'nack' }),
    ).toBe(1);
  });

  it('records ackAll and nackAll as channel-wide settle spans', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    await channel.consume('jobs', () => {});
    channel.ackAll();
    channel.nackAll(false);
    expect(raw.settles).toEqual([{ op: 'ackAll' }, { op: 'nackAll', requeue: false }]);
    const names = ofKind(SpanKind.CLIENT).map((s) => s.name);
    expect(names).toEqual(['ack jobs', 'nack jobs']);
  });

  it('passes the broker cancel (null) through to the handler', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    const seen: unknown[] = [];
    await channel.consume('jobs', (msg) => seen.push(msg));
    raw.deliver(null);
    expect(seen).toEqual([null]);
    expect(ofKind(SpanKind.CONSUMER)).toHaveLength(0);
  });

  it('hands a delivery it cannot describe to the handler untraced', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    const seen: unknown[] = [];
    await channel.consume('jobs', (msg) => seen.push(msg));
    const odd = { content: Buffer.from('x'), fields: { deliveryTag: 1 } } as unknown as AmqpMessage;
    raw.deliver(odd);
    expect(seen).toEqual([odd]);
    expect(ofKind(SpanKind.CONSUMER)).toHaveLength(0);
  });

  it('renames rabbitmq attributes when semconv stability is opted in', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { semconvStability: 'stable' });
    await channel.consume('jobs', () => {});
    raw.deliver(roundTrip(channel, raw));
    const [process] = ofKind(SpanKind.CONSUMER);
    expect(process?.attributes['rabbitmq.message.delivery_tag']).toBe(1);
    expect(process?.attributes).not.toHaveProperty('messaging.rabbitmq.message.delivery_tag');
    expect(process?.attributes['messaging.system.name']).toBe('rabbitmq');
  });
});

describe('traceChannel get', () => {
  it('keeps nothing of a noAck get, which the broker settles itself', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const raw = new FakeChannel();
    const channel = wrap(raw);
    const refs: Array<WeakRef<object>> = [];
    for (let i = 0; i < 3; i++) {
      raw.pending.push(roundTrip(channel, raw));
      refs.push(new WeakRef((await channel.get('jobs', { noAck: true })) as AmqpMessage));
    }
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toEqual([]);
  });

  it('records a receive span linked to the producer and returns the message', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    raw.pending.push(roundTrip(channel, raw));
    const msg = (await channel.get('jobs')) as AmqpMessage;
    expect(msg.fields.deliveryTag).toBe(1);
    expect(await channel.get('jobs')).toBe(false);
    const receives = telemetry()
      .spans()
      .filter((s) => s.name === 'receive jobs');
    expect(receives).toHaveLength(2);
    const [send] = ofKind(SpanKind.PRODUCER);
    expect(receives[0]?.links[0]?.context.spanId).toBe(send?.spanContext().spanId);
    expect(receives[1]?.links).toEqual([]);
    channel.ack(msg);
    const [ack] = telemetry()
      .spans()
      .filter((s) => s.name === 'ack jobs');
    expect(ack?.spanContext().traceId).toBe(send?.spanContext().traceId);
  });

  it('supports the callback API and ends the span on the reply', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    raw.pending.push(roundTrip(channel, raw));
    const msg = await new Promise<unknown>((resolve) =>
      channel.get('jobs', {}, (_error: unknown, got: unknown) => resolve(got)),
    );
    expect((msg as AmqpMessage).fields.deliveryTag).toBe(1);
    await vi.waitFor(() =>
      expect(
        telemetry()
          .spans()
          .filter((s) => s.name === 'receive jobs'),
      ).toHaveLength(1),
    );
  });
});
