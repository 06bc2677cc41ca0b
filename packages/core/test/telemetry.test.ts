import { context, diag, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestTelemetry, sumMetric, type TestTelemetry } from '../../testing/src/index.js';
import {
  activeContext,
  addMetricListener,
  getCorrelationId,
  MessagingTelemetry,
  type MetricRecord,
  resetWarnings,
  runInMessageContext,
  withCorrelationId,
} from '../src/index.js';

const scope = { name: '@baton/core-test', version: '0.0.0' };
let telemetry: TestTelemetry;

beforeEach(() => {
  telemetry = createTestTelemetry();
  resetWarnings();
});
afterEach(async () => {
  await telemetry.shutdown();
  vi.restoreAllMocks();
});

const make = (extra = {}) =>
  new MessagingTelemetry(scope, {
    ...telemetry.providers,
    ...extra,
  });
const byKind = (kind: SpanKind) => telemetry.spans().filter((s: ReadableSpan) => s.kind === kind);

describe('MessagingTelemetry.publish / process', () => {
  it('parents the process span to the send span and carries the correlation id', async () => {
    const baton = make();
    const headers = await withCorrelationId('order-7', () =>
      baton.publish({ system: 'test', destination: 'orders' }, (h) => h),
    );
    const seen = await baton.process(
      { system: 'test', destination: 'orders', headers, timestampMs: Date.now() - 50 },
      async () => ({ correlationId: getCorrelationId(), span: trace.getActiveSpan() }),
    );
    const [send] = byKind(SpanKind.PRODUCER);
    const [process] = byKind(SpanKind.CONSUMER);
    expect(send?.name).toBe('send orders');
    expect(process?.name).toBe('process orders');
    expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(process?.spanContext().traceId).toBe(send?.spanContext().traceId);
    expect(seen.correlationId).toBe('order-7');
    expect(process?.attributes['baton.correlation_id']).toBe('order-7');
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'test',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'orders',
    });
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, 'messaging.client.sent.messages')).toBe(1);
    expect(sumMetric(points, 'messaging.client.consumed.messages')).toBe(1);
    const queue = points.find((p) => p.name === 'baton.consumer.time_in_queue');
    expect(queue?.histogram?.min).toBeGreaterThanOrEqual(0.04);
  });

  it('never mutates the caller headers and drops mixed-case duplicates of context headers', () => {
    const baton = make();
    const given = Object.freeze({ Traceparent: 'stale', keep: 'me' });
    const sent = baton.publish({ system: 'test', destination: 'd', headers: given }, (h) => h);
    expect(given).toEqual({ Traceparent: 'stale', keep: 'me' });
    expect(sent.Traceparent).toBeUndefined();
    expect(sent.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(sent.keep).toBe('me');
  });

  it('links the creation context and an ambient active span, parenting only to the creation context', () => {
    const baton = make();
    const headers = baton.publish({ system: 'test', destination: 'd' }, (h) => h);
    const ambient = telemetry.tracerProvider.getTracer('t').startSpan('poll loop');
    context.with(trace.setSpan(context.active(), ambient), () =>
      baton.process({ system: 'test', destination: 'd', headers }, () => undefined),
    );
    ambient.end();
    const [process] = byKind(SpanKind.CONSUMER);
    const sendSpanId = byKind(SpanKind.PRODUCER)[0]?.spanContext().spanId;
    expect(process?.links.map((l) => l.context.spanId)).toEqual([
      sendSpanId,
      ambient.spanContext().spanId,
    ]);
    expect(process?.parentSpanContext?.spanId).toBe(sendSpanId);
  });

  it("starts a new trace linked to the producer with consumerSpanRelation 'link', dropping baggage", () => {
    const baton = make({ consumerSpanRelation: 'link' });
    const headers = {
      ...baton.publish({ system: 'test', destination: 'd' }, (h) => h),
      baggage: 'tenant_id=evil',
    };
    const baggage = baton.process({ system: 'test', destination: 'd', headers }, () =>
      propagation.getBaggage(activeContext()),
    );
    const [send] = byKind(SpanKind.PRODUCER);
    const [process] = byKind(SpanKind.CONSUMER);
    expect(process?.spanContext().traceId).not.toBe(send?.spanContext().traceId);
    expect(process?.parentSpanContext).toBeUndefined();
    expect(process?.links[0]?.context.spanId).toBe(send?.spanContext().spanId);
    expect(baggage).toBeUndefined();
  });

  it('records the error on the span and rethrows the very same error', async () => {
    const baton = make();
    const failure = new TypeError('bad payload');
    await expect(
      baton.process({ system: 'test', destination: 'd' }, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    const [process] = byKind(SpanKind.CONSUMER);
    expect(process?.status.code).toBe(SpanStatusCode.ERROR);
    expect(process?.attributes['error.type']).toBe('TypeError');
    const points = await telemetry.metricPoints();
    expect(
      sumMetric(points, 'messaging.client.consumed.messages', { 'error.type': 'TypeError' }),
    ).toBe(1);
  });

  it('returns synchronous results synchronously', () => {
    const baton = make();
    expect(baton.process({ system: 'test', destination: 'd' }, () => 42)).toBe(42);
  });

  it('keeps delivering when hooks throw, warning once per kind', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const baton = make({
      publishHook: () => {
        throw new Error('hook');
      },
      consumeHook: () => {
        throw new Error('hook');
      },
    });
    for (let i = 0; i < 3; i++) {
      const headers = baton.publish({ system: 'test', destination: 'd' }, (h) => h);
      expect(baton.process({ system: 'test', destination: 'd', headers }, () => 'ran')).toBe('ran');
    }
    expect(byKind(SpanKind.CONSUMER)).toHaveLength(3);
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('still runs the handler exactly once when the span processor throws', async () => {
    await telemetry.shutdown();
    const throwing: SpanProcessor = {
      onStart: () => {
        throw new Error('processor onStart');
      },
      onEnd: () => {
        throw new Error('processor onEnd');
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    telemetry = createTestTelemetry({ spanProcessors: [throwing] });
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const baton = make();
    let calls = 0;
    const headers = baton.publish({ system: 'test', destination: 'd' }, (h) => h);
    const result = await baton.process({ system: 'test', destination: 'd', headers }, async () => {
      calls++;
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(1);
  });

  it('gives each message of a batch its own context under one linked batch span', () => {
    const baton = make();
    const messages = ['a', 'b', 'c'].map((id) =>
      withCorrelationId(`corr-${id}`, () => ({
        system: 'test',
        destination: 'batch',
        headers: baton.publish({ system: 'test', destination: 'batch' }, (h) => h),
      })),
    );
    const seen = baton.processBatch({ system: 'test', destination: 'batch' }, messages, (scope) =>
      messages.map((_, i) =>
        scope.runInMessageContext(i, () => ({
          correlationId: getCorrelationId(),
          traceId: trace.getActiveSpan()?.spanContext().traceId,
        })),
      ),
    );
    const sends = byKind(SpanKind.PRODUCER);
    const [batch] = byKind(SpanKind.CONSUMER);
    expect(batch?.links).toHaveLength(3);
    expect(batch?.attributes['messaging.batch.message_count']).toBe(3);
    expect(seen.map((s) => s.correlationId)).toEqual(['corr-a', 'corr-b', 'corr-c']);
    expect(seen.map((s) => s.traceId)).toEqual(sends.map((s) => s.spanContext().traceId));
  });

  it("drops baggage passed as a context object too in 'link' mode", () => {
    const baton = make({ consumerSpanRelation: 'link' });
    const creation = propagation.setBaggage(
      activeContext(),
      propagation.createBaggage({ tenant_id: { value: 'evil' } }),
    );
    const baggage = baton.process({ system: 'test', destination: 'd', context: creation }, () =>
      propagation.getBaggage(activeContext()),
    );
    expect(baggage).toBeUndefined();
  });

  it('puts messaging.operation.type only on the operation duration, as semconv lists it', async () => {
    const baton = make();
    const headers = baton.publish({ system: 'test', destination: 'typed' }, (h) => h);
    baton.process({ system: 'test', destination: 'typed', headers }, () => undefined);
    const points = await telemetry.metricPoints();
    const typeOf = (name: string) =>
      points.find((p) => p.name === name)?.attributes['messaging.operation.type'];
    expect(typeOf('messaging.client.operation.duration')).toBe('send');
    for (const name of [
      'messaging.client.sent.messages',
      'messaging.client.consumed.messages',
      'messaging.process.duration',
    ]) {
      expect(points.some((p) => p.name === name)).toBe(true);
      expect(typeOf(name), name).toBeUndefined();
    }
  });

  it('names spans and metric series after a destination template, keeping the name on the span', async () => {
    const baton = make();
    const description = {
      system: 'test',
      destination: 'user.123.created',
      destinationTemplate: 'user.{id}.created',
    };
    const headers = baton.publish(description, (h) => h);
    baton.process({ ...description, headers }, () => undefined);
    const [send] = byKind(SpanKind.PRODUCER);
    expect(send?.name).toBe('send user.{id}.created');
    expect(send?.attributes).toMatchObject({
      'messaging.destination.name': 'user.123.created',
      'messaging.destination.template': 'user.{id}.created',
    });
    const points = await telemetry.metricPoints();
    expect(points.length).toBeGreaterThan(0);
    for (const point of points) {
      expect(point.attributes).not.toHaveProperty('messaging.destination.name');
      expect(point.attributes['messaging.destination.template']).toBe('user.{id}.created');
    }
  });

  it('applies the destinationTemplate option, and keeps the name when it throws', () => {
    const baton = make({
      destinationTemplate: (name: string) => {
        if (name === 'boom') throw new Error('template bug');
        return name.replace(/^user\.\d+\./, 'user.{id}.');
      },
    });
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    baton.publish({ system: 'test', destination: 'user.42.created' }, () => undefined);
    baton.publish({ system: 'test', destination: 'boom' }, () => undefined);
    expect(telemetry.spans().map((s) => s.name)).toEqual(['send user.{id}.created', 'send boom']);
  });

  it("puts a consumer's published name on its message metrics only, templated, one set per name", async () => {
    const baton = make({
      destinationTemplate: (name: string) => {
        if (name === 'x:boom') throw new Error('template bug');
        return name.includes('.') ? name.replace(/user\.\d+\./, 'user.{id}.') : undefined;
      },
    });
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    // Same destination, two published names (RabbitMQ: `x:q` from routing key `q` or none).
    for (const published of ['x:q', 'x', 'x:q', 'x:user.7.created', 'x:boom', '']) {
      baton.process(
        { system: 'test', destination: 'x:q', publishedDestination: published },
        () => {},
      );
    }
    baton.process({ system: 'test', destination: 'x:q' }, () => {});
    const points = (await telemetry.metricPoints()).filter(
      (p) => p.name === 'messaging.client.consumed.messages',
    );
    const byPublished = Object.fromEntries(
      points.map((p) => [String(p.attributes['baton.destination.published_name']), p.value]),
    );
    expect(byPublished).toEqual({
      'x:q': 2,
      x: 1,
      'x:user.{id}.created': 1,
      'x:boom': 1, // the template threw: the name as it is
      undefined: 2, // an empty name, and none
    });
    const spans = telemetry.spans();
    for (const span of spans)
      expect(span.attributes).not.toHaveProperty('baton.destination.published_name');
  });

  it('makes a send CLIENT, linked, when the message keeps a creation context of its own', () => {
    const baton = make();
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const kept = baton.publish(
      {
        system: 'test',
        destination: 'd',
        headers: { traceparent: own },
        preserveExistingContext: true,
      },
      (h) => h,
    );
    const forwarded = baton.publish(
      { system: 'test', destination: 'dlq', headers: { traceparent: own }, sendRole: 'transport' },
      (h) => h,
    );
    expect(kept.traceparent).toBe(own);
    expect(forwarded.traceparent).toBe(own);
    const sends = telemetry.spans();
    expect(sends.map((s) => s.kind)).toEqual([SpanKind.CLIENT, SpanKind.CLIENT]);
    for (const send of sends) {
      expect(send.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    }
  });

  it('gives hooks the native message and reports errors to onError, isolated', async () => {
    const native = { body: 'native' };
    const seen: unknown[] = [];
    const errors: unknown[] = [];
    const baton = make({
      publishHook: (_span: unknown, info: { message: unknown }) => seen.push(info.message),
      consumeHook: (_span: unknown, info: { message: unknown }) => seen.push(info.message),
      onError: (error: unknown, info: { operation: string }) => {
        errors.push([error, info.operation]);
        throw new Error('listener bug');
      },
    });
    const headers = baton.publish({ system: 'test', destination: 'd', message: native }, (h) => h);
    baton.process({ system: 'test', destination: 'd', headers, message: native }, () => undefined);
    expect(seen).toEqual([native, native]);
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const failure = new Error('ack failed');
    baton.reportError(failure, { operation: 'settle', destination: 'd' });
    expect(errors).toEqual([[failure, 'settle']]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^@baton\/core-test: onError failed/),
      expect.anything(),
    );
  });

  it('sums message counts across Baton instances sharing a meter, per error type', async () => {
    const first = make();
    const second = make();
    first.publish({ system: 'test', destination: 'shared' }, () => undefined);
    second.publish({ system: 'test', destination: 'shared' }, () => undefined);
    for (const baton of [first, second, second]) {
      await baton
        .process({ system: 'test', destination: 'shared' }, async () => {
          throw new RangeError('no');
        })
        .catch(() => undefined);
    }
    const points = await telemetry.metricPoints();
    const sent = points.filter((p) => p.name === 'messaging.client.sent.messages');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.value).toBe(2);
    expect(
      sumMetric(points, 'messaging.client.consumed.messages', { 'error.type': 'RangeError' }),
    ).toBe(3);
    // Counters stay cumulative across collections.
    first.publish({ system: 'test', destination: 'shared' }, () => undefined);
    expect(sumMetric(await telemetry.metricPoints(), 'messaging.client.sent.messages')).toBe(3);
  });

  it('records an operation duration timed by an adapter, with the settle operation type', async () => {
    const baton = make();
    baton.recordOperationDuration(
      'settle',
      { system: 'test', destination: 'q', operationName: 'ack' },
      performance.now() - 2,
    );
    const points = await telemetry.metricPoints();
    const ack = points.find((p) => p.name === 'messaging.client.operation.duration');
    expect(ack?.attributes).toMatchObject({
      'messaging.operation.name': 'ack',
      'messaging.operation.type': 'settle',
    });
    expect(ack?.histogram?.min).toBeGreaterThanOrEqual(0.001);
  });

  it('counts messages a pull delivered as consumed, with the receive operation name and no duration', async () => {
    const baton = make();
    const records: MetricRecord[] = [];
    const remove = addMetricListener((record) => records.push(record));
    baton.recordConsumed({ system: 'test', destination: 'q', operationName: 'receive' }, 1);
    remove();
    const points = await telemetry.metricPoints();
    const consumed = points.filter((p) => p.name === 'messaging.client.consumed.messages');
    expect(consumed.map((p) => [p.value, p.attributes])).toEqual([
      [
        1,
        {
          'messaging.system': 'test',
          'messaging.operation.name': 'receive',
          'messaging.destination.name': 'q',
        },
      ],
    ]);
    expect(points.filter((p) => p.name === 'messaging.client.operation.duration')).toEqual([]);
    expect(records.map((r) => [r.name, r.value])).toEqual([
      ['messaging.client.consumed.messages', 1],
    ]);
  });

  it('reaches each batch message context through the native message object', () => {
    const baton = make();
    const natives = [{ n: 1 }, { n: 2 }];
    const headers = natives.map((_, i) =>
      withCorrelationId(`batch-${i}`, () =>
        baton.publish({ system: 'test', destination: 'b' }, (h) => h),
      ),
    );
    const seen = baton.processBatch(
      { system: 'test', destination: 'b', message: natives },
      natives.map((message, i) => ({
        system: 'test',
        destination: 'b',
        headers: headers[i],
        message,
      })),
      () => natives.map((message) => runInMessageContext(message, () => getCorrelationId())),
    );
    expect(seen).toEqual(['batch-0', 'batch-1']);
    expect(runInMessageContext({}, () => 'outside')).toBe('outside');
  });

  it('hands every record to metric listeners with the context of its span', async () => {
    const records: MetricRecord[] = [];
    const remove = addMetricListener((record) => records.push(record));
    try {
      const baton = make();
      const headers = baton.publish({ system: 'test', destination: 'm' }, (h) => h);
      baton.process(
        { system: 'test', destination: 'm', headers, timestampMs: Date.now() },
        () => undefined,
      );
    } finally {
      remove();
    }
    expect(records.map((r) => r.name).sort()).toEqual([
      'baton.consumer.time_in_queue',
      'messaging.client.consumed.messages',
      'messaging.client.operation.duration',
      'messaging.client.sent.messages',
      'messaging.process.duration',
    ]);
    const [send] = byKind(SpanKind.PRODUCER);
    const [process] = byKind(SpanKind.CONSUMER);
    const spanOf = (name: string) =>
      trace.getSpanContext(records.find((r) => r.name === name)!.context)?.spanId;
    expect(spanOf('messaging.client.sent.messages')).toBe(send?.spanContext().spanId);
    expect(spanOf('messaging.process.duration')).toBe(process?.spanContext().spanId);
    expect(spanOf('baton.consumer.time_in_queue')).toBe(process?.spanContext().spanId);
  });

  it("prefixes diagnostics with the adapter's package, and one package's warning does not silence another's", () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const failing = {
      publishHook: () => {
        throw new Error('bug');
      },
    };
    const a = new MessagingTelemetry(
      { name: '@baton/a', version: '0' },
      { ...failing, tracerProvider: telemetry.tracerProvider },
    );
    const b = new MessagingTelemetry(
      { name: '@baton/b', version: '0' },
      { ...failing, tracerProvider: telemetry.tracerProvider },
    );
    for (const baton of [a, a, b])
      baton.publish({ system: 'test', destination: 'd' }, () => undefined);
    expect(warn.mock.calls.map(([message]) => String(message).split(':')[0])).toEqual([
      '@baton/a',
      '@baton/b',
    ]);
  });

  it("uses the adapter's error type for its client's errors", async () => {
    const baton = new MessagingTelemetry(
      { name: 'typed', version: '0', errorType: (e) => (e as { type?: string }).type },
      { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    );
    const error = Object.assign(new Error('x'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await baton
      .publish({ system: 'test', destination: 'd' }, async () => {
        throw error;
      })
      .catch(() => undefined);
    expect(telemetry.spans()[0]?.attributes['error.type']).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const points = await telemetry.metricPoints();
    expect(
      sumMetric(points, 'messaging.client.sent.messages', {
        'error.type': 'UNKNOWN_TOPIC_OR_PARTITION',
      }),
    ).toBe(1);
  });
});
