import { context, diag, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import {
  isTracingSuppressed as otelIsTracingSuppressed,
  suppressTracing as otelSuppressTracing,
} from '@opentelemetry/core';
import { InstrumentationBase, isWrapped } from '@opentelemetry/instrumentation';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestTelemetry, sumMetric, type TestTelemetry } from '../../testing/src/index.js';
import {
  getCorrelationId,
  injectContext,
  isTracingSuppressed,
  MessagingTelemetry,
  methodOwner,
  resetWarnings,
  runInMessageContext,
  SUPPRESS_TRACING_KEY,
  suppressTracing,
  unwrappedOriginal,
  viewOf,
  withCorrelationId,
} from '../src/index.js';

// The real shimmer of @opentelemetry/instrumentation, as every contrib instrumentation
// (and Sentry's copies of them) wraps a client method.
class WrappingInstrumentation extends InstrumentationBase {
  constructor() {
    super('coexistence-test', '0.0.0', { enabled: false });
  }
  protected init() {
    return [];
  }
  wrap<T extends object>(target: T, name: keyof T & string): void {
    this._wrap(target, name, (original) => {
      const call = original as (...a: unknown[]) => unknown;
      return function wrapper(this: unknown, ...args: unknown[]) {
        return call.apply(this, args);
      } as T[keyof T & string];
    });
  }
  unwrap<T extends object>(target: T, name: keyof T & string): void {
    this._unwrap(target, name);
  }
}

describe('the suppress-tracing key', () => {
  it("is @opentelemetry/core's key: each side reads what the other wrote", () => {
    expect(otelIsTracingSuppressed(suppressTracing(ROOT_CONTEXT))).toBe(true);
    expect(isTracingSuppressed(otelSuppressTracing(ROOT_CONTEXT))).toBe(true);
    expect(otelSuppressTracing(ROOT_CONTEXT).getValue(SUPPRESS_TRACING_KEY)).toBe(true);
    expect(isTracingSuppressed(ROOT_CONTEXT)).toBe(false);
  });
});

describe('unwrappedOriginal', () => {
  const shimmer = new WrappingInstrumentation();
  const client = () => ({
    calls: 0,
    publish(n: number) {
      this.calls += n;
      return this;
    },
  });

  it('finds the original function under a wrapper, and nothing on an unwrapped one', () => {
    const raw = client();
    const original = raw.publish;
    expect(unwrappedOriginal(raw.publish)).toBeUndefined();
    shimmer.wrap(raw, 'publish');
    expect(isWrapped(raw.publish)).toBe(true);
    expect(unwrappedOriginal(raw.publish)).toBe(original);
    shimmer.unwrap(raw, 'publish');
    expect(unwrappedOriginal(raw.publish)).toBeUndefined();
  });

  it('goes through two wrappers to the original', () => {
    const raw = client();
    const original = raw.publish;
    shimmer.wrap(raw, 'publish');
    shimmer.wrap(raw, 'publish');
    expect(unwrappedOriginal(raw.publish)).toBe(original);
  });

  it('answers undefined for non-functions and for a wrapper without an original', () => {
    expect(unwrappedOriginal(undefined)).toBeUndefined();
    expect(unwrappedOriginal({ __wrapped: true, __original: () => 1 })).toBeUndefined();
    const broken = Object.assign(() => 1, { __wrapped: true });
    expect(unwrappedOriginal(broken)).toBeUndefined();
  });

  it("finds a view's method on the client under it, unless the view replaces it", () => {
    const raw = client();
    shimmer.wrap(raw, 'publish');
    const view = viewOf(raw, {});
    const replacing = viewOf(view, { publish: () => 0 });
    expect(methodOwner(view, 'publish')).toBe(raw);
    expect(methodOwner(viewOf(view, { other: () => 0 }), 'publish')).toBe(raw);
    expect(methodOwner(replacing, 'publish')).toBe(replacing);
    expect(methodOwner(raw, 'publish')).toBe(raw);
  });
});

describe("coexistence: 'contrib' (the client's wrapper records the span)", () => {
  let telemetry: TestTelemetry;
  beforeEach(() => {
    telemetry = createTestTelemetry();
    resetWarnings();
  });
  afterEach(async () => {
    await telemetry.shutdown();
    vi.restoreAllMocks();
  });
  const make = () =>
    new MessagingTelemetry(
      { name: '@baton/core-test', version: '0.0.0' },
      {
        ...telemetry.providers,
        coexistence: 'contrib',
      },
    );
  const contribTracer = () => telemetry.tracerProvider.getTracer('contrib');

  it('injects the correlation id and the caller context without a span, counting only with "span"', async () => {
    const baton = make();
    const caller = contribTracer().startSpan('request');
    const sent = await withCorrelationId('req-1', () =>
      context.with(trace.setSpan(context.active(), caller), () =>
        baton.publish(
          { system: 'test', destination: 'd', recordedByContrib: 'span' },
          async (headers) => ({ headers, correlationId: getCorrelationId() }),
        ),
      ),
    );
    baton.publish(
      { system: 'test', destination: 'd', recordedByContrib: 'span-and-metrics' },
      () => 0,
    );
    caller.end();
    expect(telemetry.spans().map((s) => s.name)).toEqual(['request']);
    expect(sent.headers['x-correlation-id']).toBe('req-1');
    expect(String(sent.headers.traceparent)).toContain(caller.spanContext().spanId);
    expect(sent.correlationId).toBe('req-1');
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, 'messaging.client.sent.messages')).toBe(1);
    expect(sumMetric(points, 'messaging.client.operation.duration')).toBe(1);
  });

  it("runs the handler in the wrapper's span with the message's correlation id, and records time in queue", async () => {
    const baton = make();
    const headers = { 'x-correlation-id': 'msg-9', baggage: 'tenant=t1' };
    const contribSpan = contribTracer().startSpan('q process', { kind: SpanKind.CONSUMER });
    const seen = await context.with(trace.setSpan(ROOT_CONTEXT, contribSpan), () =>
      baton.process(
        {
          system: 'test',
          destination: 'q',
          headers,
          timestampMs: Date.now() - 10,
          recordedByContrib: 'span-and-metrics',
        },
        async () => ({
          span: trace.getActiveSpan(),
          correlationId: getCorrelationId(),
          tenant: propagation.getActiveBaggage()?.getEntry('tenant')?.value,
        }),
      ),
    );
    contribSpan.end();
    expect(seen.span).toBe(contribSpan);
    expect(seen).toMatchObject({ correlationId: 'msg-9', tenant: 't1' });
    const spans = telemetry.spans();
    expect(spans.map((s) => s.name)).toEqual(['q process']);
    expect(spans[0]?.attributes['baton.correlation_id']).toBe('msg-9');
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, 'baton.consumer.time_in_queue')).toBe(1);
    expect(sumMetric(points, 'messaging.client.consumed.messages')).toBe(0);
    expect(sumMetric(points, 'messaging.process.duration')).toBe(0);
  });

  it('gives each batch message its own context without a batch span', async () => {
    const baton = make();
    const producer = contribTracer().startSpan('send t', { kind: SpanKind.PRODUCER });
    const headers = injectContext({}, trace.setSpan(ROOT_CONTEXT, producer));
    producer.end();
    const message = { offset: '0' };
    const seen = await baton.processBatch(
      { system: 'test', destination: 't', recordedByContrib: 'span' },
      [{ system: 'test', destination: 't', headers: { ...headers }, message }],
      async () => runInMessageContext(message, () => trace.getActiveSpan()?.spanContext().spanId),
    );
    expect(seen).toBe(producer.spanContext().spanId);
    expect(telemetry.spans().map((s) => s.name)).toEqual(['send t']);
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, 'messaging.client.consumed.messages')).toBe(1);
  });

  it('falls back to "baton" with one warning for an unknown value', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const baton = new MessagingTelemetry(
      { name: '@baton/core-test', version: '0.0.0' },
      { coexistence: 'both' as never },
    );
    expect(baton.options.coexistence).toBe('baton');
    expect(warn).toHaveBeenCalledWith(
      '@baton/core-test: ignoring invalid option coexistence=both; using the default',
    );
  });
});
