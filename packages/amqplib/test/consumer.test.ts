import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { METRIC_OPERATION_DURATION, withCorrelationId } from '@baton/core';
import { createTestTelemetry, sumMetric, type TestTelemetry } from '@baton/testing';
import { diag, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AmqplibOptions,
  type AmqpMessage,
  type ConsumerErrorInfo,
  traceChannel,
} from '../src/index.js';
import { FakeChannel } from './fake-channel.js';

let telemetry: TestTelemetry;
beforeEach(() => {
  telemetry = createTestTelemetry();
});
afterEach(async () => {
  await telemetry.shutdown();
  vi.restoreAllMocks();
});

const wrap = (channel: FakeChannel, extra: AmqplibOptions = {}) =>
  traceChannel(channel, {
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
    ...extra,
  });
const ofKind = (kind: SpanKind) => telemetry.spans().filter((s) => s.kind === kind);
const eventsOf = (op: string) =>
  ofKind(SpanKind.CONSUMER).flatMap((s) => s.events.filter((e) => e.name === op));

// Publishes through the traced channel and returns the message amqplib would deliver.
function roundTrip(channel: ReturnType<typeof wrap>, raw: FakeChannel, body = 'x') {
  withCorrelationId('corr-7', () => channel.sendToQueue('jobs', Buffer.from(body)));
  return raw.message(raw.published.at(-1));
}

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
    expect(process?.attributes['messaging.message.conversation_id']).toBe('corr-7');
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
    const [reject] = telemetry.spans().filter((s) => s.name === 'reject jobs');
    const laterProcess = ofKind(SpanKind.CONSUMER)[1];
    expect(reject?.kind).toBe(SpanKind.CLIENT);
    expect(reject?.parentSpanContext?.spanId).toBe(laterProcess?.spanContext().spanId);
    expect(reject?.attributes['messaging.rabbitmq.settle.requeue']).toBe(false);
    const points = await telemetry.metricPoints();
    expect(
      sumMetric(points, METRIC_OPERATION_DURATION, { 'messaging.operation.name': 'ack' }),
    ).toBe(1);
    expect(
      sumMetric(points, METRIC_OPERATION_DURATION, { 'messaging.operation.name': 'reject' }),
    ).toBe(1);
  });

  it('records only the settle metric when spans are not recorded (no SDK)', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw, { meterProvider: telemetry.meterProvider });
    const later: AmqpMessage[] = [];
    await channel.consume('jobs', (msg) => {
      if (msg?.content.toString() === 'now') channel.ack(msg);
      else if (msg) later.push(msg);
    });
    raw.deliver(roundTrip(channel, raw, 'now'));
    raw.deliver(roundTrip(channel, raw, 'later'));
    channel.nack(later[0] as AmqpMessage);
    expect(raw.settles.map((s) => s.op)).toEqual(['ack', 'nack']);
    expect(telemetry.spans()).toEqual([]);
    const points = await telemetry.metricPoints();
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

describe('traceChannel consume (ackMode auto)', () => {
  const reported = () => {
    const reports: Array<{ error: unknown; info: ConsumerErrorInfo }> = [];
    return {
      reports,
      onError: (error: unknown, info: ConsumerErrorInfo) => reports.push({ error, info }),
    };
  };

  it('acks after a handler succeeds and rejects with requeue when it throws or rejects', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', onError });
    await channel.consume('jobs', async (msg) => {
      if (msg?.content.toString() !== 'ok') throw new Error('nope');
    });
    await raw.deliver(roundTrip(channel, raw, 'ok'));
    await raw.deliver(roundTrip(channel, raw, 'async failure'));
    expect(raw.settles).toEqual([
      { op: 'ack', tag: 1, allUpTo: undefined },
      { op: 'reject', tag: 2, requeue: true },
    ]);
    expect(eventsOf('ack')).toHaveLength(1);
    expect(eventsOf('reject')).toHaveLength(1);
    expect(
      reports.map(({ error, info }) => [(error as Error).message, info.operation, info.requeue]),
    ).toEqual([['nope', 'handle', true]]);
  });

  it('rejects without requeue in dead-letter mode, also for a synchronous throw', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto', failureMode: 'dead-letter', onError: () => {} });
    await channel.consume('jobs', () => {
      throw new Error('sync');
    });
    expect(raw.deliver(roundTrip(channel, raw))).toBeUndefined();
    expect(raw.settles).toEqual([{ op: 'reject', tag: 1, requeue: false }]);
  });

  it('rejects without requeue once a message has been delivered maxDeliveries times', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', maxDeliveries: 3, onError });
    await channel.consume('jobs', () => {
      throw new Error('poison');
    });
    const first = roundTrip(channel, raw, 'poison');
    raw.deliver(first);
    // A classic queue marks redeliveries but does not count them: Baton does.
    for (let i = 0; i < 2; i++)
      raw.deliver({ ...first, fields: { ...first.fields, deliveryTag: 2 + i, redelivered: true } });
    expect(raw.settles.map((s) => s.requeue)).toEqual([true, true, false]);
    expect(reports.map(({ info }) => info.deliveryCount)).toEqual([1, 2, 3]);
  });

  it('takes the higher of the broker count and its own, so a published x-delivery-count cannot keep a poison message cycling', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto', maxDeliveries: 2, onError: () => {} });
    await channel.consume('jobs', () => {
      throw new Error('poison');
    });
    const first = roundTrip(channel, raw, 'stuck');
    first.properties.headers = { ...first.properties.headers, 'x-delivery-count': 0 };
    raw.deliver(first);
    raw.deliver({ ...first, fields: { ...first.fields, deliveryTag: 2, redelivered: true } });
    expect(raw.settles.map((s) => s.requeue)).toEqual([true, false]);
  });

  it('does not settle what the handler settled itself, alone, with allUpTo or ackAll', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto' });
    const held: AmqpMessage[] = [];
    await channel.consume('jobs', (msg) => {
      if (!msg) return;
      const body = msg.content.toString();
      if (body === 'self') channel.ack(msg);
      if (body === 'hold') held.push(msg);
      if (body === 'upto') channel.ack(msg, true);
      if (body === 'all') channel.ackAll();
    });
    raw.deliver(roundTrip(channel, raw, 'self'));
    raw.deliver(roundTrip(channel, raw, 'upto'));
    raw.deliver(roundTrip(channel, raw, 'all'));
    expect(raw.settles.map((s) => s.op)).toEqual(['ack', 'ack', 'ackAll']);
    expect(held).toEqual([]);
  });

  it('leaves noAck deliveries unsettled', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto' });
    await channel.consume('jobs', () => {}, { noAck: true });
    raw.deliver(roundTrip(channel, raw));
    expect(raw.settles).toEqual([]);
    expect(ofKind(SpanKind.CONSUMER)).toHaveLength(1);
  });

  it('reports an ack the closed channel refused, without an unhandled error', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', onError });
    await channel.consume('jobs', async () => {
      raw.closed = true;
    });
    await expect(raw.deliver(roundTrip(channel, raw))).resolves.toBeUndefined();
    expect(raw.settles).toEqual([]);
    expect(reports.map(({ error, info }) => [(error as Error).message, info.operation])).toEqual([
      ['Channel closed', 'ack'],
    ]);
  });

  it('never acks a delivery of a replaced channel: its tag may name another delivery now', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', onError });
    const releases: Array<() => void> = [];
    await channel.consume('jobs', () => new Promise<void>((resolve) => releases.push(resolve)));
    const old = roundTrip(channel, raw, 'old');
    const pending = raw.deliver(old);
    // A recovering wrapper now speaks for a new channel: delivery tags start again at 1.
    const fresh = roundTrip(channel, raw, 'new');
    const next = raw.deliver({ ...fresh, fields: { ...fresh.fields, deliveryTag: 1 } });
    releases[0]?.();
    await pending;
    expect(raw.settles).toEqual([]);
    expect(reports.map(({ error, info }) => [(error as Error).name, info.operation])).toEqual([
      ['ChannelClosedError', 'ack'],
    ]);
    releases[1]?.();
    await next;
    expect(raw.settles).toEqual([{ op: 'ack', tag: 1, allUpTo: undefined }]);
  });

  it('warns once per kind through diag when there is no onError, and survives a throwing onError', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const raw = new FakeChannel();
    const quiet = wrap(raw, { ackMode: 'auto', failureMode: 'dead-letter' });
    await quiet.consume('jobs', () => {
      throw new Error('fails');
    });
    raw.deliver(roundTrip(quiet, raw));
    raw.deliver(roundTrip(quiet, raw));
    // Two failures, one warning (this file's first handler failure without onError).
    const handlerWarnings = warn.mock.calls.filter(([text]) =>
      String(text).includes('a handler failed on queue jobs'),
    );
    expect(handlerWarnings).toHaveLength(1);
    expect(raw.settles.map((s) => s.op)).toEqual(['reject', 'reject']);

    const other = new FakeChannel();
    const loud = wrap(other, {
      ackMode: 'auto',
      onError: () => {
        throw new Error('reporter broke');
      },
    });
    await loud.consume('jobs', () => {
      throw new Error('fails');
    });
    expect(other.deliver(roundTrip(loud, other))).toBeUndefined();
    expect(other.settles.map((s) => s.op)).toEqual(['reject']);
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
    const receives = telemetry.spans().filter((s) => s.name === 'receive jobs');
    expect(receives).toHaveLength(2);
    const [send] = ofKind(SpanKind.PRODUCER);
    expect(receives[0]?.links[0]?.context.spanId).toBe(send?.spanContext().spanId);
    expect(receives[1]?.links).toEqual([]);
    channel.ack(msg);
    const [ack] = telemetry.spans().filter((s) => s.name === 'ack jobs');
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
      expect(telemetry.spans().filter((s) => s.name === 'receive jobs')).toHaveLength(1),
    );
  });
});
