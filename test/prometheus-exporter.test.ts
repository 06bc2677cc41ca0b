import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LagMonitor, MessagingTelemetry, startLagMonitor } from '@baton/core';
import { createEventBus } from '@baton/event-emitter';
import {
  createPrometheusMetrics,
  type MetricSample,
  type PrometheusMetrics,
} from '@baton/prometheus';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BATON_METRICS,
  DOCUMENTED_SERIES,
  EXEMPLAR_LABELS,
  isPrometheusOwnSeries,
  labelProblems,
  repoPath,
} from './prometheus/names.js';
import { readDashboard } from './prometheus/promql.js';
import {
  prometheusToolOrSkip,
  type RunningPrometheus,
  startPrometheus,
  targetsUp,
} from './prometheus/server.js';

// Baton records through a real adapter (@baton/event-emitter) with an SDK recording spans;
// @baton/prometheus serves it; a real Prometheus (Debian's, exemplar storage on, the shipped
// rules loaded) scrapes it as two services: user_service (the sends) and
// notification_service (the consumption and the backlog), one endpoint each.
const binary = prometheusToolOrSkip('prometheus');
const RULES = repoPath('observability/prometheus/baton-rules.yml');
const DASHBOARD = repoPath('observability/grafana/dashboards/baton-messaging.json');
const BACKLOG = 42;

type Events = { 'user.registered': { n: number } };
const isSend = ({ attributes }: MetricSample) => attributes['messaging.operation.name'] === 'send';

describe.skipIf(!binary)('a real Prometheus scraping @baton/prometheus', () => {
  let telemetry: TestTelemetry;
  let endpoints: Record<'user_service' | 'notification_service', PrometheusMetrics>;
  let server: Server;
  let prometheus: RunningPrometheus;
  let lag: LagMonitor;
  let traffic: NodeJS.Timeout;

  beforeAll(async () => {
    telemetry = createTestTelemetry();
    endpoints = {
      user_service: createPrometheusMetrics({ filter: isSend }),
      notification_service: createPrometheusMetrics({ filter: (sample) => !isSend(sample) }),
    };
    const bus = createEventBus<Events>({
      ...telemetry.providers,
      onError: () => {},
    });
    bus.subscribe(
      'user.registered',
      async ({ n }) => {
        await new Promise((resolve) => setTimeout(resolve, n % 3));
        if (n % 5 === 0) throw new RangeError('every fifth fails');
      },
      { consumerGroup: 'notification_service' },
    );
    let n = 0;
    traffic = setInterval(() => {
      for (let i = 0; i < 5 && n < 5_000; i++) bus.publish('user.registered', { n: ++n });
    }, 100);
    lag = startLagMonitor(new MessagingTelemetry({ name: 'test', version: '0' }), {
      system: 'in_process',
      intervalMs: 60_000,
      read: () => [
        { destination: 'user.registered', consumerGroup: 'notification_service', value: BACKLOG },
        {
          kind: 'pending',
          destination: 'user.registered',
          consumerGroup: 'notification_service',
          value: 3,
        },
      ],
    });
    server = createServer((request, response) => {
      const job = /^\/(\w+)\/metrics$/.exec(request.url ?? '')?.[1];
      const endpoint = endpoints[job as keyof typeof endpoints];
      if (endpoint) void endpoint.handler(request, response);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    prometheus = await startPrometheus(binary as string, {
      targets: Object.keys(endpoints).map((job) => ({
        job,
        address,
        metricsPath: `/${job}/metrics`,
      })),
      ruleFiles: [RULES],
    });
  });

  afterAll(async () => {
    clearInterval(traffic);
    lag?.stop();
    await prometheus?.stop();
    for (const endpoint of Object.values(endpoints ?? {})) endpoint.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await telemetry?.shutdown();
  });

  const query = (expr: string, count = 1) =>
    waitFor(
      async () => {
        const found = await prometheus.api.query(expr);
        return found.length >= count && found.every((s) => s.value[1] !== 'NaN')
          ? found
          : undefined;
      },
      { timeoutMs: 30_000, message: expr },
    );

  it('scrapes both services, asking for OpenMetrics', async () => {
    const targets = await targetsUp(prometheus, 2);
    expect(targets.map((t) => t.labels.job).sort()).toEqual([
      'notification_service',
      'user_service',
    ]);
  });

  it('stores the documented series with the documented labels, and nothing else', async () => {
    for (const metric of BATON_METRICS) {
      for (const name of metric.series) {
        for (const sample of await query(name)) {
          expect(labelProblems(metric, name, Object.keys(sample.metric))).toEqual([]);
        }
      }
    }
    const [sent] = await query('messaging_client_sent_messages_total');
    expect(sent?.metric).toEqual({
      __name__: 'messaging_client_sent_messages_total',
      job: 'user_service',
      instance: expect.any(String),
      messaging_system: 'in_process',
      messaging_operation_name: 'send',
      messaging_destination_name: 'user.registered',
    });
    const failed = await query('messaging_client_consumed_messages_total{error_type="RangeError"}');
    expect(failed[0]?.metric).toMatchObject({
      job: 'notification_service',
      messaging_consumer_group_name: 'notification_service',
    });
    const [backlog] = await query('baton_consumer_lag');
    expect(backlog?.metric).toMatchObject({ job: 'notification_service' });
    expect(backlog?.value[1]).toBe(String(BACKLOG));
    const all = await prometheus.api.series('{job=~"user_service|notification_service"}');
    const names = new Set(all.map((labels) => labels.__name__ as string));
    expect(
      [...names].filter((name) => !DOCUMENTED_SERIES.has(name) && !isPrometheusOwnSeries(name)),
    ).toEqual([]);
  });

  it('returns exemplars through query_exemplars whose trace and span are among the exported spans', async () => {
    const cases = [
      ['messaging_client_operation_duration_seconds_bucket', 'send user.registered'],
      ['messaging_client_sent_messages_total', 'send user.registered'],
      ['messaging_process_duration_seconds_bucket', 'process user.registered'],
      ['baton_consumer_time_in_queue_seconds_bucket', 'process user.registered'],
      ['messaging_client_consumed_messages_total', 'process user.registered'],
    ] as const;
    for (const [name, spanName] of cases) {
      const now = Date.now() / 1000;
      const series = await waitFor(
        async () => {
          const found = await prometheus.api.queryExemplars(name, now - 300, now + 300);
          return found.some((s) => s.exemplars.length > 0) ? found : undefined;
        },
        { timeoutMs: 20_000, message: `exemplars of ${name}` },
      );
      const exemplars = series.flatMap((s) => s.exemplars);
      const spans = new Map(telemetry.spans().map((span) => [span.spanContext().spanId, span]));
      for (const exemplar of exemplars) {
        expect(Object.keys(exemplar.labels).sort(), name).toEqual([...EXEMPLAR_LABELS].sort());
        const span = spans.get(exemplar.labels.span_id as string);
        expect(span?.spanContext().traceId, `${name}: an exported span`).toBe(
          exemplar.labels.trace_id,
        );
        expect(span?.name).toBe(spanName);
      }
    }
  });

  it("records the service map's edges: user_service -> user.registered -> notification_service", async () => {
    const destination = {
      messaging_system: 'in_process',
      messaging_destination_name: 'user.registered',
    };
    const [sent] = await query('baton_edge:messaging_client_sent_messages:rate5m');
    expect(sent?.metric).toEqual({
      __name__: 'baton_edge:messaging_client_sent_messages:rate5m',
      producer_job: 'user_service',
      ...destination,
    });
    expect(Number(sent?.value[1])).toBeGreaterThan(0);
    const consumerHalf = {
      consumer_job: 'notification_service',
      ...destination,
      consumer_destination_name: 'user.registered', // the consumer's own name of it
      messaging_consumer_group_name: 'notification_service',
    };
    for (const rule of [
      'baton_edge:messaging_client_consumed_messages:rate5m',
      'baton_edge:messaging_client_consumed_messages:failed_ratio5m',
      'baton_edge:messaging_process_duration_seconds:p95_5m',
      'baton_edge:baton_consumer_time_in_queue_seconds:p95_5m',
    ]) {
      const [edge, ...rest] = await query(rule);
      expect(rest, rule).toEqual([]);
      expect(edge?.metric, rule).toEqual({ __name__: rule, ...consumerHalf });
    }
    // Every fifth message fails.
    const [ratio] = await query('baton_edge:messaging_client_consumed_messages:failed_ratio5m > 0');
    expect(Number(ratio?.value[1])).toBeGreaterThan(0.1);
    expect(Number(ratio?.value[1])).toBeLessThan(0.3);
  });

  it("feeds the dashboard's node graph with nodes and edges that draw the path", async () => {
    const panel = readDashboard(DASHBOARD).panels.find((p) => p.type === 'nodeGraph');
    const expr = (refId: string) => panel?.targets.find((t) => t.refId === refId)?.expr ?? '';
    const nodes = await query(expr('nodes'), 3);
    const ids = nodes.map((n) => n.metric.id).sort();
    expect(ids).toEqual([
      'destination:in_process/user.registered',
      'service:notification_service',
      'service:user_service',
    ]);
    for (const node of nodes)
      expect(Object.keys(node.metric).sort()).toEqual(['id', 'subtitle', 'title']);
    const edges = await query(expr('edges'), 2);
    expect(edges.map((e) => [e.metric.source, e.metric.target]).sort()).toEqual([
      ['destination:in_process/user.registered', 'service:notification_service'],
      ['service:user_service', 'destination:in_process/user.registered'],
    ]);
    // Grafana's node graph needs a unique id on every edge: a consumer edge's has its group
    // and its own destination name (two RabbitMQ queues of one group are two edges).
    expect(edges.map((e) => e.metric.id).sort()).toEqual([
      'destination:in_process/user.registered -> service:notification_service -> notification_service -> user.registered',
      'service:user_service -> destination:in_process/user.registered',
    ]);
  });
});
