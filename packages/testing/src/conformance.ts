import {
  type BatonOptions,
  getCorrelationId,
  METRIC_CONSUMED_MESSAGES,
  METRIC_PROCESS_DURATION,
  METRIC_SENT_MESSAGES,
  METRIC_TIME_IN_QUEUE,
  withCorrelationId,
} from '@baton/core';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestTelemetry, sumMetric, type TestTelemetry } from './telemetry.js';
import { waitFor } from './wait-for.js';

/** What one delivery looked like from inside the handler. */
export interface Delivery {
  body: string;
  traceId: string | undefined;
  spanId: string | undefined;
  correlationId: string | undefined;
}

/** One adapter, wired for the conformance suite against a fresh, unique destination. */
export interface ConformanceHarness {
  /** Publishes `body` through the Baton-wrapped producer, in the caller's context. */
  publish(body: string): Promise<void>;
  /** Publishes `body` with exactly these headers, bypassing Baton (garbage-header tests). */
  publishRaw(body: string, headers: Record<string, string>): Promise<void>;
  /**
   * Starts the Baton-wrapped consumer. `handler` runs once per delivery inside Baton's
   * process span; when it throws, the adapter applies its failure semantics.
   */
  startConsumer(handler: (body: string) => void | Promise<void>): Promise<void>;
  /** Stops consumer and producer and removes what the harness created. */
  close(): Promise<void>;
}

/** Options for {@link runConformanceSuite}. */
export interface ConformanceOptions {
  /** Names the describe block, e.g. `'@baton/ioredis'`. */
  name: string;
  /** Creates a harness whose adapter uses exactly these Baton options. */
  createHarness(options: BatonOptions): Promise<ConformanceHarness>;
  /**
   * What a handler failure does on this bus: `'redeliver'` (the broker delivers the message
   * again) or `'report'` (no redelivery; the failure is recorded and reported).
   */
  onHandlerError: 'redeliver' | 'report';
  /** Messages in the "nothing lost" test. @defaultValue 200 */
  messageCount?: number;
  /** How long to wait for deliveries. @defaultValue 20_000 */
  timeoutMs?: number;
}

const processSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.kind === SpanKind.CONSUMER);
const sendSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.kind === SpanKind.PRODUCER);

/**
 * The adapter conformance suite (DESIGN.md, Tests): linkage, correlation round trip,
 * malformed headers tolerated, throwing hooks tolerated, handler errors keep the client's
 * redelivery semantics, nothing lost, metrics recorded. Call it inside a vitest file.
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const count = options.messageCount ?? 200;

  describe(`${options.name} conformance`, () => {
    let telemetry: TestTelemetry;
    let harness: ConformanceHarness | undefined;
    let deliveries: Delivery[];

    const start = async (
      extra: BatonOptions = {},
      handler?: (body: string) => void | Promise<void>,
    ) => {
      harness = await options.createHarness({
        tracerProvider: telemetry.tracerProvider,
        meterProvider: telemetry.meterProvider,
        ...extra,
      });
      await harness.startConsumer(async (body) => {
        const spanContext = trace.getActiveSpan()?.spanContext();
        deliveries.push({
          body,
          traceId: spanContext?.traceId,
          spanId: spanContext?.spanId,
          correlationId: getCorrelationId(),
        });
        await handler?.(body);
      });
      return harness;
    };
    const delivered = (body: string) => deliveries.filter((d) => d.body === body);
    const waitDelivered = (body: string, times = 1) =>
      waitFor(() => delivered(body).length >= times, {
        timeoutMs,
        message: `${times} deliveries of ${body}`,
      });

    beforeEach(() => {
      telemetry = createTestTelemetry();
      deliveries = [];
    });
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
      await telemetry.shutdown();
    });

    it('makes the process span a child of the send span, in one trace', async () => {
      const h = await start();
      const tracer = telemetry.tracerProvider.getTracer('conformance');
      const root = tracer.startSpan('request');
      await context.with(trace.setSpan(context.active(), root), () =>
        withCorrelationId('conformance-linkage', () => h.publish('linked')),
      );
      root.end();
      await waitDelivered('linked');
      await waitFor(() => processSpans(telemetry.spans()).length >= 1, { timeoutMs });
      const [send] = sendSpans(telemetry.spans());
      const [process] = processSpans(telemetry.spans());
      expect(send?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(process?.spanContext().traceId).toBe(send?.spanContext().traceId);
      expect(delivered('linked')[0]?.traceId).toBe(send?.spanContext().traceId);
      expect(process?.attributes['baton.correlation_id']).toBe('conformance-linkage');
    });

    it('carries the correlation id from publisher to handler', async () => {
      const h = await start();
      await withCorrelationId('corr-round-trip-42', () => h.publish('correlated'));
      await waitDelivered('correlated');
      expect(delivered('correlated')[0]?.correlationId).toBe('corr-round-trip-42');
    });

    it('starts a fresh trace and a fresh correlation id when incoming headers are garbage', async () => {
      const h = await start();
      await h.publishRaw('garbage', {
        traceparent: 'not-a-traceparent',
        tracestate: '=,,=;;',
        baggage: '%%%;;==',
        'x-correlation-id': 'evil\r\ninjected: yes',
      });
      await waitDelivered('garbage');
      const delivery = delivered('garbage')[0];
      expect(delivery?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(delivery?.traceId).not.toBe('00000000000000000000000000000000');
      expect(delivery?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      await waitFor(() => processSpans(telemetry.spans()).length >= 1, { timeoutMs });
      expect(processSpans(telemetry.spans())[0]?.parentSpanContext).toBeUndefined();
    });

    it('delivers and traces normally when publish and consume hooks throw', async () => {
      const h = await start({
        publishHook: () => {
          throw new Error('publish hook bug');
        },
        consumeHook: () => {
          throw new Error('consume hook bug');
        },
      });
      await h.publish('hooked');
      await waitDelivered('hooked');
      await waitFor(() => processSpans(telemetry.spans()).length >= 1, { timeoutMs });
      expect(sendSpans(telemetry.spans())).toHaveLength(1);
    });

    it(`keeps the client's failure semantics when a handler throws (${options.onHandlerError})`, async () => {
      let failed = false;
      const h = await start({}, (body) => {
        if (body === 'fails-once' && !failed) {
          failed = true;
          throw new Error('handler failure');
        }
      });
      await h.publish('fails-once');
      if (options.onHandlerError === 'redeliver') {
        await waitDelivered('fails-once', 2);
        const [first, second] = delivered('fails-once');
        expect(second?.traceId).toBe(first?.traceId);
      } else {
        await waitDelivered('fails-once');
        await h.publish('after-failure');
        await waitDelivered('after-failure');
        expect(delivered('fails-once')).toHaveLength(1);
      }
      await waitFor(
        () => processSpans(telemetry.spans()).some((s) => s.status.code === SpanStatusCode.ERROR),
        { timeoutMs, message: 'a process span with error status' },
      );
      const errored = processSpans(telemetry.spans()).find(
        (s) => s.status.code === SpanStatusCode.ERROR,
      );
      expect(errored?.attributes['error.type']).toBe('Error');
    });

    it(`loses nothing and duplicates nothing over ${count} messages`, async () => {
      const h = await start();
      const bodies = Array.from({ length: count }, (_, i) => `bulk-${i}`);
      await Promise.all(bodies.map((body) => h.publish(body)));
      await waitFor(() => deliveries.length >= count, {
        timeoutMs,
        message: `${count} deliveries`,
      });
      // A late duplicate would arrive before a marker published after the run.
      await h.publish('marker-after-bulk');
      await waitDelivered('marker-after-bulk');
      const seen = deliveries
        .map((d) => d.body)
        .filter((b) => b.startsWith('bulk-'))
        .sort();
      expect(seen).toEqual([...bodies].sort());
    });

    it('records sent, consumed, process duration and time-in-queue metrics', async () => {
      const h = await start();
      await h.publish('measured-1');
      await h.publish('measured-2');
      await waitDelivered('measured-2');
      await waitDelivered('measured-1');
      await waitFor(() => processSpans(telemetry.spans()).length >= 2, { timeoutMs });
      const points = await telemetry.metricPoints();
      expect(sumMetric(points, METRIC_SENT_MESSAGES)).toBe(2);
      expect(sumMetric(points, METRIC_CONSUMED_MESSAGES)).toBe(2);
      expect(sumMetric(points, METRIC_PROCESS_DURATION)).toBe(2);
      expect(sumMetric(points, METRIC_TIME_IN_QUEUE)).toBe(2);
    });
  });
}
