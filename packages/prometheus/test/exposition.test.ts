import { MessagingTelemetry, startLagMonitor } from '@baton/core';
import { waitFor } from '@baton/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createPrometheusMetrics, type PrometheusMetrics } from '../src/index.js';
import { parseOpenMetrics, samplesOf } from './openmetrics.js';
import { CONTRACT, sendThroughBus } from './setup.js';

let metrics: PrometheusMetrics | undefined;
afterEach(() => metrics?.stop());

const labelsOf = (attributes: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(attributes).map(([key, value]) => [CONTRACT.labels[key] ?? key, String(value)]),
  );

describe('the OpenMetrics text', () => {
  it('has every documented family with its type, and nothing else', async () => {
    metrics = createPrometheusMetrics();
    await sendThroughBus(3, { failEvery: 3 });
    const families = parseOpenMetrics(await metrics.metrics());
    expect(
      [...families.values()].map((f) => [f.name, f.type]).sort(),
      'families and types',
    ).toEqual(CONTRACT.metrics.map((m) => [m.family, m.type]).sort());
    for (const metric of CONTRACT.metrics) {
      for (const sample of families.get(metric.family)?.samples ?? []) {
        expect(metric.series, metric.family).toContain(sample.name);
        const labels = Object.keys(sample.labels).filter((label) => label !== 'le');
        const allowed = [...metric.requiredLabels, ...metric.optionalLabels];
        expect(
          labels.filter((label) => !allowed.includes(label)),
          sample.name,
        ).toEqual([]);
        for (const label of metric.requiredLabels) expect(labels, sample.name).toContain(label);
      }
    }
    expect(metrics.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
  });

  it('gives the same series, counts and buckets as the OpenTelemetry SDK for the same records', async () => {
    metrics = createPrometheusMetrics();
    const telemetry = await sendThroughBus(7, { failEvery: 3 });
    const families = parseOpenMetrics(await metrics.metrics());
    const points = await telemetry.metricPoints();
    expect(points.length).toBeGreaterThanOrEqual(6);
    let series = 0;
    for (const point of points) {
      const metric = CONTRACT.metrics.find((m) => m.otel === point.name);
      if (!metric) throw new Error(`undocumented metric ${point.name}`);
      const labels = labelsOf(point.attributes);
      const exact = (name: string) =>
        samplesOf(families, name, labels).filter(
          (s) =>
            Object.keys(s.labels).filter((l) => l !== 'le').length === Object.keys(labels).length,
        );
      if (point.histogram === undefined) {
        expect(
          exact(`${metric.family}_total`).map((s) => s.value),
          point.name,
        ).toEqual([point.value]);
        series++;
        continue;
      }
      const { boundaries, counts } = point.histogram.buckets;
      expect(boundaries, 'the SDK route').toEqual(metric.buckets);
      const buckets = exact(`${metric.family}_bucket`);
      expect(buckets.map((s) => s.labels.le)).toEqual([...boundaries.map(String), '+Inf']);
      let cumulative = 0;
      expect(buckets.map((s) => s.value)).toEqual(counts.map((c) => (cumulative += c)));
      expect(exact(`${metric.family}_count`).map((s) => s.value)).toEqual([point.histogram.count]);
      expect(exact(`${metric.family}_sum`)[0]?.value).toBeCloseTo(point.histogram.sum, 9);
      series++;
    }
    const all = [...families.values()].flatMap((f) =>
      f.samples.filter((s) => !s.name.endsWith('_bucket') && !s.name.endsWith('_sum')),
    );
    expect(all.length, 'no series the SDK does not have').toBe(series);
  });

  it('labels each series with its attributes, dots as underscores, error_type on failures', async () => {
    metrics = createPrometheusMetrics();
    await sendThroughBus(4, { failEvery: 2 });
    const families = parseOpenMetrics(await metrics.metrics());
    const consumed = samplesOf(families, 'messaging_client_consumed_messages_total');
    expect(consumed.map((s) => [s.labels, s.value])).toEqual(
      expect.arrayContaining([
        [
          {
            messaging_system: 'in_process',
            messaging_operation_name: 'process',
            messaging_destination_name: 'user.registered',
            messaging_consumer_group_name: 'notification_service',
          },
          2,
        ],
        [
          {
            messaging_system: 'in_process',
            messaging_operation_name: 'process',
            messaging_destination_name: 'user.registered',
            messaging_consumer_group_name: 'notification_service',
            error_type: 'SmtpError',
          },
          2,
        ],
      ]),
    );
    const sent = samplesOf(families, 'messaging_client_operation_duration_seconds_count');
    expect(sent.map((s) => s.labels)).toEqual([
      {
        messaging_system: 'in_process',
        messaging_operation_name: 'send',
        messaging_operation_type: 'send',
        messaging_destination_name: 'user.registered',
      },
    ]);
  });

  it('names the system messaging_system_name in stable mode, and both in dup mode', async () => {
    metrics = createPrometheusMetrics();
    await sendThroughBus(1, { semconvStability: 'stable' });
    let families = parseOpenMetrics(await metrics.metrics());
    const [stable] = samplesOf(families, 'messaging_client_sent_messages_total');
    expect(stable?.labels).toMatchObject({ messaging_system_name: 'in_process' });
    expect(stable?.labels).not.toHaveProperty('messaging_system');
    metrics.stop();
    metrics = createPrometheusMetrics();
    await sendThroughBus(1, { semconvStability: 'dup' });
    families = parseOpenMetrics(await metrics.metrics());
    const [dup] = samplesOf(families, 'messaging_client_sent_messages_total');
    expect(dup?.labels).toMatchObject({
      messaging_system: 'in_process',
      messaging_system_name: 'in_process',
    });
  });

  it('labels a templated destination messaging_destination_template', async () => {
    metrics = createPrometheusMetrics();
    await sendThroughBus(1, { destinationTemplate: () => 'user.{event}' });
    const families = parseOpenMetrics(await metrics.metrics());
    const [sent] = samplesOf(families, 'messaging_client_sent_messages_total');
    expect(sent?.labels).toMatchObject({ messaging_destination_template: 'user.{event}' });
    expect(sent?.labels).not.toHaveProperty('messaging_destination_name');
    expect(CONTRACT.labels['messaging.destination.template']).toBe(
      'messaging_destination_template',
    );
  });

  it('escapes quotes, backslashes and newlines in label values', async () => {
    metrics = createPrometheusMetrics();
    const telemetry = new MessagingTelemetry({ name: 'test', version: '0' });
    const destination = 'odd "name"\\with\nnewline';
    telemetry.publish({ system: 'redis', destination, headers: {} }, () => undefined);
    const families = parseOpenMetrics(await metrics.metrics());
    const [sent] = samplesOf(families, 'messaging_client_sent_messages_total');
    expect(sent?.labels.messaging_destination_name).toBe(destination);
  });

  it('reads lag and pending from the running lag monitors at each scrape', async () => {
    metrics = createPrometheusMetrics();
    let backlog = 7;
    const monitor = startLagMonitor(new MessagingTelemetry({ name: 'test', version: '0' }), {
      system: 'kafka',
      intervalMs: 60_000,
      read: () => [
        { destination: 'orders', consumerGroup: 'billing', partition: 0, value: backlog },
        { kind: 'pending', destination: 'orders', consumerGroup: 'billing', value: 2 },
      ],
    });
    const lagOf = async () => {
      const families = parseOpenMetrics(await metrics!.metrics());
      return samplesOf(families, 'baton_consumer_lag').map((s) => [s.labels, s.value]);
    };
    await waitFor(async () => ((await lagOf()).length > 0 ? true : undefined));
    expect(await lagOf()).toEqual([
      [
        {
          messaging_system: 'kafka',
          messaging_destination_name: 'orders',
          messaging_consumer_group_name: 'billing',
          messaging_destination_partition_id: '0',
        },
        7,
      ],
    ]);
    const families = parseOpenMetrics(await metrics.metrics());
    expect(samplesOf(families, 'baton_consumer_pending').map((s) => s.value)).toEqual([2]);
    backlog = 12;
    await monitor.refresh();
    expect((await lagOf()).map(([, value]) => value)).toEqual([12]);
    monitor.stop();
    expect(await lagOf()).toEqual([]);
  });
});
