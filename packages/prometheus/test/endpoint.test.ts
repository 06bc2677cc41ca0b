import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessagingTelemetry, resetWarnings } from '@baton/core';
import { diag } from '@opentelemetry/api';
import { Counter, Gauge, openMetricsContentType, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPrometheusMetrics, type PrometheusMetrics } from '../src/index.js';
import { parseOpenMetrics, samplesOf } from './openmetrics.js';
import { sendThroughBus } from './setup.js';

let metrics: PrometheusMetrics | undefined;
let server: Server | undefined;
afterEach(async () => {
  metrics?.stop();
  vi.restoreAllMocks();
  resetWarnings();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

function openMetricsRegistry(): Registry {
  const registry = new Registry();
  registry.setContentType(openMetricsContentType as never);
  return registry;
}

async function serve(endpoint: PrometheusMetrics): Promise<string> {
  server = createServer((request, response) => void endpoint.handler(request, response));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

const publishTo = (telemetry: MessagingTelemetry, destination: string) =>
  telemetry.publish({ system: 'redis', destination, headers: {} }, () => undefined);

describe('the /metrics handler', () => {
  it('answers 200 with the OpenMetrics text and its content type (HEAD: no body)', async () => {
    metrics = createPrometheusMetrics();
    await sendThroughBus(2);
    const url = await serve(metrics);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const families = parseOpenMetrics(await response.text());
    expect(samplesOf(families, 'messaging_client_sent_messages_total')[0]?.value).toBe(2);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers 500 and warns once when collecting fails, and serves again afterwards', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const registry = openMetricsRegistry();
    let broken = true;
    new Gauge({
      name: 'app_flaky',
      help: 'a user metric whose collect throws',
      registers: [registry],
      collect() {
        if (broken) throw new Error('disk gone');
      },
    });
    metrics = createPrometheusMetrics({ registry });
    const url = await serve(metrics);
    expect((await fetch(url)).status).toBe(500);
    expect((await fetch(url)).status).toBe(500);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      '@baton/prometheus: metrics collection failed; continuing without that telemetry',
    ]);
    broken = false;
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('the registry', () => {
  it("serves the registry's metrics, then Baton's, as one exposition; stop() leaves the registry's", async () => {
    const registry = openMetricsRegistry();
    const own = new Counter({ name: 'app_requests', help: 'the app', registers: [registry] });
    own.inc();
    metrics = createPrometheusMetrics({ registry });
    const telemetry = new MessagingTelemetry({ name: 'test', version: '0' });
    publishTo(telemetry, 'orders');
    let families = parseOpenMetrics(await metrics.metrics());
    expect([...families.keys()][0]).toBe('app_requests');
    expect(samplesOf(families, 'app_requests_total')[0]?.value).toBe(1);
    expect(samplesOf(families, 'messaging_client_sent_messages_total')[0]?.value).toBe(1);
    expect(metrics.contentType).toBe(registry.contentType);
    metrics.stop();
    metrics.stop();
    publishTo(telemetry, 'orders');
    families = parseOpenMetrics(await metrics.metrics());
    expect([...families.keys()]).toEqual(['app_requests']);
    // Set up again: counting starts over.
    metrics = createPrometheusMetrics({ registry });
    publishTo(telemetry, 'orders');
    families = parseOpenMetrics(await metrics.metrics());
    expect(samplesOf(families, 'messaging_client_sent_messages_total')[0]?.value).toBe(1);
  });

  it('serves a valid exposition of its own metrics alone, and from an empty registry', async () => {
    metrics = createPrometheusMetrics({ registry: openMetricsRegistry() });
    const families = parseOpenMetrics(await metrics.metrics());
    expect([...families.keys()]).toContain('baton_consumer_lag');
    metrics.stop();
    expect(await metrics.metrics()).toBe('# EOF\n');
  });
});

describe('bounded series', () => {
  it('keeps each metric under maxSeriesPerMetric, the rest in its overflow series, with one warning', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    metrics = createPrometheusMetrics({ maxSeriesPerMetric: 3 });
    const telemetry = new MessagingTelemetry({ name: 'test', version: '0' });
    for (let i = 0; i < 10; i++) publishTo(telemetry, `queue-${i}`);
    publishTo(telemetry, 'queue-0');
    const families = parseOpenMetrics(await metrics.metrics());
    const sent = samplesOf(families, 'messaging_client_sent_messages_total');
    expect(sent.map((s) => [s.labels.messaging_destination_name, s.value])).toEqual([
      ['queue-0', 2],
      ['queue-1', 1],
      ['queue-2', 1],
      [undefined, 7],
    ]);
    expect(sent[3]?.labels).toEqual({ otel_metric_overflow: 'true' });
    const messages = warn.mock.calls.map(([message]) => message);
    expect(messages).toEqual([
      '@baton/prometheus: more than 3 label sets for messaging_client_sent_messages; further ones are counted in its otel_metric_overflow="true" series',
      '@baton/prometheus: more than 3 label sets for messaging_client_operation_duration_seconds; further ones are counted in its otel_metric_overflow="true" series',
    ]);
  });

  it('falls back to the default cap, with a warning, for a bad maxSeriesPerMetric', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    metrics = createPrometheusMetrics({ maxSeriesPerMetric: -1 });
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      '@baton/prometheus: ignoring invalid maxSeriesPerMetric=-1; using 2048',
    ]);
  });
});

describe('filter', () => {
  it('serves only the records and lag readings it keeps; a throwing filter drops the record', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    metrics = createPrometheusMetrics({
      filter: ({ attributes }) => {
        if (attributes['messaging.destination.name'] === 'bad') throw new Error('filter bug');
        return attributes['messaging.destination.name'] === 'kept';
      },
    });
    const telemetry = new MessagingTelemetry({ name: 'test', version: '0' });
    for (const destination of ['kept', 'other', 'bad', 'kept']) publishTo(telemetry, destination);
    const families = parseOpenMetrics(await metrics.metrics());
    expect(
      samplesOf(families, 'messaging_client_sent_messages_total').map((s) => [
        s.labels.messaging_destination_name,
        s.value,
      ]),
    ).toEqual([['kept', 2]]);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      '@baton/prometheus: filter failed; continuing without that telemetry',
    ]);
  });
});
