import { MessagingTelemetry, resetWarnings } from '@baton/core';
import { context, diag, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPrometheusMetrics, type PrometheusMetrics } from '../src/index.js';
import { parseOpenMetrics, type Sample, samplesOf } from './openmetrics.js';
import { CONTRACT, sendThroughBus } from './setup.js';

let metrics: PrometheusMetrics | undefined;
afterEach(() => {
  metrics?.stop();
  vi.restoreAllMocks();
  resetWarnings();
});

const withExemplar = (samples: Sample[]) => samples.filter((s) => s.exemplar !== undefined);

describe('exemplars', () => {
  it("carry the trace and span id of the record's sampled span, on the bucket its value fell in", async () => {
    metrics = createPrometheusMetrics();
    const telemetry = await sendThroughBus(5, { failEvery: 5 });
    const families = parseOpenMetrics(await metrics.metrics());
    const spans = telemetry.spans();
    const spanOf = (sample: Sample) =>
      spans.find(
        (span) =>
          span.spanContext().spanId === sample.exemplar?.labels.span_id &&
          span.spanContext().traceId === sample.exemplar?.labels.trace_id,
      );
    const cases = [
      ['messaging_client_operation_duration_seconds_bucket', 'send user.registered'],
      ['messaging_process_duration_seconds_bucket', 'process user.registered'],
      ['baton_consumer_time_in_queue_seconds_bucket', 'process user.registered'],
      ['messaging_client_sent_messages_total', 'send user.registered'],
      ['messaging_client_consumed_messages_total', 'process user.registered'],
    ] as const;
    for (const [name, spanName] of cases) {
      const samples = withExemplar(samplesOf(families, name));
      expect(samples.length, name).toBeGreaterThan(0);
      for (const sample of samples) {
        expect(Object.keys(sample.exemplar?.labels ?? {}).sort(), name).toEqual([
          'span_id',
          'trace_id',
        ]);
        expect(spanOf(sample)?.name, `${name}: an exported span`).toBe(spanName);
        expect(sample.exemplar?.timestamp).toBeGreaterThan(Date.now() / 1000 - 60);
      }
    }
    // A bucket's exemplar lies inside that bucket: above the previous boundary, at most le.
    const buckets = samplesOf(families, 'messaging_process_duration_seconds_bucket');
    for (const sample of withExemplar(buckets)) {
      const le = Number(sample.labels.le);
      const bounds = CONTRACT.metrics.find((m) => m.family === 'messaging_process_duration_seconds')
        ?.buckets as number[];
      const previous = bounds.filter((b) => b < le).at(-1) ?? 0;
      expect(sample.exemplar?.value).toBeLessThanOrEqual(le);
      expect(sample.exemplar?.value).toBeGreaterThan(previous);
    }
    // The failed handling's series points at the failed process span.
    const [failed] = withExemplar(
      samplesOf(families, 'messaging_client_consumed_messages_total', { error_type: 'SmtpError' }),
    );
    expect(spanOf(failed as Sample)?.status.code).toBe(2);
  });

  it('are left out when the span is not sampled, or when there is no span', async () => {
    metrics = createPrometheusMetrics();
    const unsampled = new BasicTracerProvider({ sampler: new AlwaysOffSampler() });
    await sendThroughBus(3, { tracerProvider: unsampled });
    // No SDK at all: a bare MessagingTelemetry with the no-op tracer.
    const bare = new MessagingTelemetry({ name: 'test', version: '0' });
    bare.publish({ system: 'redis', destination: 'orders', headers: {} }, () => undefined);
    // A valid but unsampled parent from elsewhere.
    const parent = trace.setSpanContext(context.active(), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 0,
    });
    context.with(parent, () =>
      bare.publish({ system: 'redis', destination: 'orders', headers: {} }, () => undefined),
    );
    const families = parseOpenMetrics(await metrics.metrics());
    const samples = [...families.values()].flatMap((f) => f.samples);
    expect(samplesOf(families, 'messaging_client_sent_messages_total').length).toBe(2);
    expect(samples.filter((s) => s.exemplar)).toEqual([]);
  });

  it('are left out with exemplars: false', async () => {
    metrics = createPrometheusMetrics({ exemplars: false });
    await sendThroughBus(2);
    const families = parseOpenMetrics(await metrics.metrics());
    expect([...families.values()].flatMap((f) => f.samples).filter((s) => s.exemplar)).toEqual([]);
    expect(samplesOf(families, 'messaging_client_sent_messages_total')[0]?.value).toBe(2);
  });

  it('are left out, with one warning, when the registry serves the Prometheus text format', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const registry = new Registry();
    metrics = createPrometheusMetrics({ registry });
    await sendThroughBus(2);
    const text = await metrics.metrics();
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('\n# TYPE messaging_client_sent_messages_total counter\n');
    expect(text).toContain('\nmessaging_client_sent_messages_total{');
    expect(text).not.toContain('trace_id');
    expect(metrics.contentType).toBe(registry.contentType);
    await metrics.metrics();
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/^@baton\/prometheus: the registry serves the Prometheus text format/),
    ]);
  });
});
