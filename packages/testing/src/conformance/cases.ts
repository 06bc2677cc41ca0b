import {
  getCorrelationId,
  METRIC_CONSUMED_MESSAGES,
  METRIC_PROCESS_DURATION,
  METRIC_SENT_MESSAGES,
  METRIC_TIME_IN_QUEUE,
  withCorrelationId,
} from '@baton/core';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { expect } from 'vitest';
import { waitFor } from '../wait-for.js';
import type { CaseContext, ConformanceCase } from './types.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const VALID_TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/;

const byKind = (spans: readonly ReadableSpan[], kind: SpanKind) =>
  spans.filter(
    (span) => span.kind === kind && span.instrumentationScope.name.startsWith('@baton/'),
  );
const processSpans = (c: CaseContext) => byKind(c.telemetry.spans(), SpanKind.CONSUMER);
const sendSpans = (c: CaseContext) =>
  c.telemetry.spans().filter((span) => span.attributes['messaging.operation.type'] === 'send');
const isBatch = (c: CaseContext) => c.options.delivery === 'batch';

async function waitProcessSpans(c: CaseContext, count: number): Promise<ReadableSpan[]> {
  return waitFor(() => (processSpans(c).length >= count ? processSpans(c) : undefined), {
    timeoutMs: c.timeoutMs,
    message: `${count} process span(s)`,
  });
}

/** The process span that handled the message sent in `send` (as child or link). */
function processOf(c: CaseContext, send: ReadableSpan | undefined): ReadableSpan | undefined {
  const id = send?.spanContext().spanId;
  return processSpans(c).find(
    (span) =>
      span.parentSpanContext?.spanId === id ||
      span.links.some((link) => link.context.spanId === id),
  );
}

export const CASES: readonly ConformanceCase[] = [
  {
    name: 'puts the handler in the producer trace: child and link of the send span (batch: linked, message context inside)',
    async run(c) {
      const h = await c.start();
      const root = c.telemetry.tracerProvider.getTracer('conformance').startSpan('request');
      await context.with(trace.setSpan(context.active(), root), () =>
        withCorrelationId('conformance-linkage', () => h.publish('linked')),
      );
      root.end();
      await c.waitDelivered('linked');
      const [send] = sendSpans(c);
      expect(send?.kind).toBe(SpanKind.PRODUCER);
      expect(send?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      await waitFor(() => processOf(c, send), {
        timeoutMs: c.timeoutMs,
        message: 'the process span',
      });
      const process = processOf(c, send);
      expect(process?.links.map((l) => l.context.spanId)).toContain(send?.spanContext().spanId);
      if (!isBatch(c)) {
        expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
        expect(process?.attributes['baton.correlation_id']).toBe('conformance-linkage');
      }
      const [delivery] = c.delivered('linked');
      expect(delivery?.traceId).toBe(send?.spanContext().traceId);
      expect(delivery?.correlationId).toBe('conformance-linkage');
    },
  },
  {
    name: 'carries the correlation id and baggage from publisher to handler',
    async run(c) {
      const h = await c.start();
      const baggage = propagation.createBaggage({ tenant_id: { value: 'acme' } });
      await context.with(propagation.setBaggage(context.active(), baggage), () =>
        withCorrelationId('corr-round-trip-42', () => h.publish('correlated')),
      );
      await c.waitDelivered('correlated');
      const [delivery] = c.delivered('correlated');
      expect(delivery?.correlationId).toBe('corr-round-trip-42');
      expect(delivery?.baggage).toEqual({ tenant_id: 'acme' });
    },
  },
  {
    name: 'starts a fresh trace and a fresh correlation id when incoming headers are garbage',
    async run(c) {
      const h = await c.start();
      await h.publishRaw('garbage', {
        traceparent: 'not-a-traceparent',
        tracestate: '=,,=;;',
        baggage: '%%%;;==',
        'x-correlation-id': 'evil\r\ninjected: yes',
      });
      await c.waitDelivered('garbage');
      const [delivery] = c.delivered('garbage');
      expect(delivery?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(delivery?.baggage).toEqual({});
      const [process] = await waitProcessSpans(c, 1);
      if (isBatch(c)) {
        expect(process?.links).toEqual([]);
      } else {
        expect(delivery?.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(process?.parentSpanContext).toBeUndefined();
        expect(process?.links).toEqual([]);
      }
    },
  },
  {
    name: 'continues any valid incoming traceparent, and what it passes on is a valid version-00 traceparent',
    async run(c) {
      const h = await c.start();
      for (const flags of ['00', '01', '03', 'ff', 'fe']) {
        await h.publishRaw(`flags-${flags}`, {
          traceparent: `00-${TRACE_ID}-${PARENT_ID}-${flags}`,
        });
      }
      await h.publishRaw('future-version', {
        traceparent: `cc-${TRACE_ID}-${PARENT_ID}-01-future-field`,
      });
      for (const body of [
        'flags-00',
        'flags-01',
        'flags-03',
        'flags-ff',
        'flags-fe',
        'future-version',
      ]) {
        await c.waitDelivered(body);
        const [delivery] = c.delivered(body);
        expect(delivery?.onwardTraceparent, body).toMatch(VALID_TRACEPARENT);
        expect(delivery?.onwardTraceparent?.slice(3, 35), body).toBe(TRACE_ID);
      }
    },
  },
  {
    name: 'reads a repeated header the same way on every bus: first valid traceparent and correlation id',
    needs: 'publishRepeated',
    async run(c) {
      const h = await c.start();
      await h.publishRepeated?.('repeated', {
        traceparent: [
          'garbage',
          `00-${TRACE_ID}-${PARENT_ID}-01`,
          `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
        ],
        'x-correlation-id': ['bad id\r\n', 'first-valid', 'second-valid'],
        baggage: ['a=1', 'b=2'],
      });
      await c.waitDelivered('repeated');
      const [delivery] = c.delivered('repeated');
      expect(delivery?.onwardTraceparent?.slice(3, 35)).toBe(TRACE_ID);
      expect(delivery?.correlationId).toBe('first-valid');
      expect(delivery?.baggage).toEqual({ a: '1', b: '2' });
    },
  },
  {
    name: 'calls publish and consume hooks once per message with the native message, and survives hooks that throw',
    async run(c) {
      const calls: Array<{ hook: string; destination: unknown; message: unknown }> = [];
      const h = await c.start({
        publishHook: (_span, info) => {
          calls.push({ hook: 'publish', destination: info.destination, message: info.message });
          throw new Error('publish hook bug');
        },
        consumeHook: (_span, info) => {
          calls.push({ hook: 'consume', destination: info.destination, message: info.message });
          throw new Error('consume hook bug');
        },
      });
      await h.publish('hooked');
      await c.waitDelivered('hooked');
      await waitProcessSpans(c, 1);
      expect(calls.map((call) => call.hook).sort()).toEqual(['consume', 'publish']);
      for (const call of calls) {
        expect(typeof call.destination).toBe('string');
        expect(call.message).toBeDefined();
      }
      expect(sendSpans(c)).toHaveLength(1);
    },
  },
  {
    name: "keeps the client's failure semantics when a handler throws, and records error.type on span and metrics",
    async run(c) {
      let failed = false;
      const h = await c.start({}, (body) => {
        if (body === 'fails-once' && !failed) {
          failed = true;
          throw new RangeError('handler failure');
        }
      });
      await h.publish('fails-once');
      if (c.options.onHandlerError === 'redeliver') {
        await c.waitDelivered('fails-once', 2);
        const [first, second] = c.delivered('fails-once');
        expect(second?.traceId).toBe(first?.traceId);
      } else {
        await c.waitDelivered('fails-once');
        await h.publish('after-failure');
        await c.waitDelivered('after-failure');
        expect(c.delivered('fails-once')).toHaveLength(1);
      }
      const errored = await waitFor(
        () => processSpans(c).find((s) => s.status.code === SpanStatusCode.ERROR),
        { timeoutMs: c.timeoutMs, message: 'a process span with error status' },
      );
      expect(errored.attributes['error.type']).toBe('RangeError');
      const points = await c.telemetry.metricPoints();
      const failedPoints = points.filter(
        (p) => p.name === METRIC_PROCESS_DURATION && p.attributes['error.type'] === 'RangeError',
      );
      expect(failedPoints.length).toBeGreaterThan(0);
    },
  },
  {
    name: 'loses nothing and duplicates nothing',
    async run(c) {
      const count = c.options.messageCount ?? 200;
      const h = await c.start();
      const bodies = Array.from({ length: count }, (_, i) => `bulk-${i}`);
      await Promise.all(bodies.map((body) => h.publish(body)));
      await waitFor(() => c.deliveries.filter((d) => d.body.startsWith('bulk-')).length >= count, {
        timeoutMs: c.timeoutMs,
        message: `${count} deliveries`,
      });
      // A late duplicate would arrive before a marker published after the run.
      await h.publish('marker-after-bulk');
      await c.waitDelivered('marker-after-bulk');
      const seen = c.deliveries
        .map((d) => d.body)
        .filter((b) => b.startsWith('bulk-'))
        .sort();
      expect(seen).toEqual([...bodies].sort());
    },
  },
  {
    name: 'records sent, consumed, process duration and time-in-queue metrics',
    async run(c) {
      const h = await c.start();
      await h.publish('measured-1');
      await h.publish('measured-2');
      await c.waitDelivered('measured-1');
      await c.waitDelivered('measured-2');
      await waitFor(
        async () =>
          (await c.telemetry.metricPoints()).some((p) => p.name === METRIC_PROCESS_DURATION),
        { timeoutMs: c.timeoutMs, message: 'process metrics' },
      );
      const points = await c.telemetry.metricPoints();
      const sum = (name: string) =>
        points
          .filter((p) => p.name === name)
          .reduce((t, p) => t + (p.value ?? p.histogram?.count ?? 0), 0);
      expect(sum(METRIC_SENT_MESSAGES)).toBe(2);
      expect(sum(METRIC_CONSUMED_MESSAGES)).toBe(2);
      expect(sum(METRIC_TIME_IN_QUEUE)).toBe(2);
      expect(sum(METRIC_PROCESS_DURATION)).toBeGreaterThanOrEqual(isBatch(c) ? 1 : 2);
    },
  },
  {
    name: "starts a new trace linked to the producer in 'link' mode, and drops the producer's baggage",
    async run(c) {
      c.contract.consumerSpanRelation = 'link';
      const h = await c.start({ consumerSpanRelation: 'link' });
      const baggage = propagation.createBaggage({ tenant_id: { value: 'untrusted' } });
      await context.with(propagation.setBaggage(context.active(), baggage), () =>
        withCorrelationId('across-boundary', () => h.publish('boundary')),
      );
      await c.waitDelivered('boundary');
      const [send] = sendSpans(c);
      await waitFor(() => processOf(c, send), {
        timeoutMs: c.timeoutMs,
        message: 'the process span',
      });
      const process = processOf(c, send);
      expect(process?.spanContext().traceId).not.toBe(send?.spanContext().traceId);
      expect(process?.links.map((l) => l.context.spanId)).toContain(send?.spanContext().spanId);
      const [delivery] = c.delivered('boundary');
      expect(delivery?.baggage).toEqual({});
      expect(delivery?.correlationId).toBe('across-boundary');
    },
  },
  {
    name: 'emits the semconv 1.45 names with OTEL_SEMCONV_STABILITY_OPT_IN=messaging',
    async run(c) {
      c.contract.stability = 'stable';
      const h = await c.start({ semconvStability: 'stable' });
      await h.publish('stable-names');
      await c.waitDelivered('stable-names');
      const [process] = await waitProcessSpans(c, 1);
      expect(process?.attributes['messaging.system.name']).toBeDefined();
      expect(process?.attributes['messaging.system']).toBeUndefined();
    },
  },
  {
    name: 'carries context and correlation ids with no SDK and no context manager',
    noSdk: true,
    async run(c) {
      const h = await c.start();
      await withCorrelationId('no-sdk-1', () => h.publish('no-sdk'));
      await h.publishRaw('no-sdk-incoming', {
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        'x-correlation-id': 'incoming-7',
      });
      await c.waitDelivered('no-sdk');
      await c.waitDelivered('no-sdk-incoming');
      expect(c.delivered('no-sdk')[0]?.correlationId).toBe('no-sdk-1');
      const incoming = c.delivered('no-sdk-incoming')[0];
      expect(incoming?.correlationId).toBe('incoming-7');
      expect(incoming?.onwardTraceparent?.slice(3, 35)).toBe(TRACE_ID);
      expect(getCorrelationId()).toBeUndefined();
    },
  },
];
