import { waitFor } from '@baton/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXEMPLAR_TRACE_ID,
  type MetricsFixture,
  PROCESS_SPAN_ID,
  SEND_SPAN_ID,
  serveMetricsFixture,
} from './prometheus/fixture.js';
import {
  BATON_METRICS,
  DOCUMENTED_LABELS,
  DOCUMENTED_SERIES,
  EXEMPLAR_LABELS,
  isPrometheusOwnSeries,
  labelProblems,
  metricOfSeries,
  repoPath,
} from './prometheus/names.js';
import { readDashboard, readRuleFile, unknownNames } from './prometheus/promql.js';
import {
  prometheusToolOrSkip,
  type RunningPrometheus,
  startPrometheus,
  targetsUp,
} from './prometheus/server.js';

// A real Prometheus (Debian's package, exemplar storage on) scrapes hand-written OpenMetrics
// that uses Baton's documented names, loads the shipped rules, and answers through its API.
const binary = prometheusToolOrSkip('prometheus');
const RULES = repoPath('observability/prometheus/baton-rules.yml');
const DASHBOARD = repoPath('observability/grafana/dashboards/baton-messaging.json');

describe.skipIf(!binary)('a real Prometheus scraping Baton metrics', () => {
  let fixture: MetricsFixture;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    fixture = await serveMetricsFixture();
    prometheus = await startPrometheus(binary as string, {
      targets: ['user_service', 'notification_service'].map((job) => ({
        job,
        address: fixture.address,
        metricsPath: `/${job}/metrics`,
      })),
      ruleFiles: [RULES],
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await fixture?.close();
  });

  const seriesOf = (name: string) =>
    waitFor(
      async () => {
        const found = await prometheus.api.series(name);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 20_000, message: `series ${name}` },
    );

  it('scrapes both services, asking for OpenMetrics', async () => {
    const targets = await targetsUp(prometheus, 2);
    expect(targets.map((t) => t.labels.job).sort()).toEqual([
      'notification_service',
      'user_service',
    ]);
    expect(fixture.acceptHeaders[0]).toMatch(/^application\/openmetrics-text/);
  });

  it('stores every documented series, with the documented labels and nothing else', async () => {
    for (const metric of BATON_METRICS) {
      for (const name of metric.series) {
        const found = await seriesOf(name);
        for (const labels of found) {
          expect(labelProblems(metric, name, Object.keys(labels))).toEqual([]);
        }
      }
    }
    // Nothing undocumented either: every series the fixture produced is in the list.
    const all = await prometheus.api.series('{job=~"user_service|notification_service"}');
    const names = new Set(all.map((labels) => labels.__name__));
    const extra = [...names].filter(
      (n) => !DOCUMENTED_SERIES.has(n as string) && !isPrometheusOwnSeries(n),
    );
    expect(extra).toEqual([]);
  });

  it('returns the trace id of each histogram exemplar through query_exemplars', async () => {
    const now = Date.now() / 1000;
    const cases = [
      ['messaging_client_operation_duration_seconds_bucket', SEND_SPAN_ID],
      ['messaging_process_duration_seconds_bucket', PROCESS_SPAN_ID],
      ['baton_consumer_time_in_queue_seconds_bucket', PROCESS_SPAN_ID],
    ] as const;
    for (const [name, spanId] of cases) {
      expect(metricOfSeries(name)?.exemplars, name).toBe(true);
      const found = await waitFor(
        async () => {
          const series = await prometheus.api.queryExemplars(name, now - 300, now + 300);
          return series.length > 0 ? series : undefined;
        },
        { timeoutMs: 20_000, message: `exemplars of ${name}` },
      );
      const exemplar = found[0]?.exemplars[0];
      expect(Object.keys(exemplar?.labels ?? {}).sort()).toEqual([...EXEMPLAR_LABELS].sort());
      expect(exemplar?.labels).toEqual({ trace_id: EXEMPLAR_TRACE_ID, span_id: spanId });
      expect(found[0]?.seriesLabels.__name__).toBe(name);
    }
  });

  it('loads every shipped rule and evaluates each without an error', async () => {
    const { recorded, alerts } = readRuleFile(RULES);
    const rules = await waitFor(
      async () => {
        const all = (await prometheus.api.rules()).flatMap((group) => group.rules);
        return all.every((rule) => !rule.lastEvaluation.startsWith('0001')) ? all : undefined;
      },
      { timeoutMs: 20_000, message: 'every rule evaluated once' },
    );
    expect(rules.map((rule) => rule.name).sort()).toEqual([...recorded, ...alerts].sort());
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
  });

  it('records per-destination and per-group series from the scraped names', async () => {
    const value = (expr: string) =>
      waitFor(
        async () => {
          const [sample, ...rest] = await prometheus.api.query(expr);
          return sample && rest.length === 0 && sample.value[1] !== 'NaN' ? sample : undefined;
        },
        { timeoutMs: 20_000, message: expr },
      );
    const group = {
      job: 'notification_service',
      messaging_system: 'kafka',
      messaging_destination_name: 'user.registered',
      messaging_consumer_group_name: 'notification_service',
    };
    const consumed = await value('baton_group:messaging_client_consumed_messages:rate5m');
    expect(consumed.metric).toEqual({
      __name__: 'baton_group:messaging_client_consumed_messages:rate5m',
      ...group,
    });
    expect(Number(consumed.value[1])).toBeGreaterThan(0);
    // Partitions 0 and 1 report 7 and 5.
    const lag = await value('baton_group:baton_consumer_lag:sum');
    expect(lag.metric).toEqual({ __name__: 'baton_group:baton_consumer_lag:sum', ...group });
    expect(lag.value[1]).toBe('12');
    // Over time: the counter grows by 10 a scrape, the backlog stays at 12.
    const overTime = async (expr: string) => {
      const end = Date.now() / 1000;
      const [series] = await prometheus.api.queryRange(expr, end - 60, end, 1);
      return series?.values.map(([, v]) => v) ?? [];
    };
    const counts = await waitFor(
      async () => {
        const values = await overTime('messaging_client_sent_messages_total{error_type=""}');
        return new Set(values).size >= 3 ? values.map(Number) : undefined;
      },
      { timeoutMs: 20_000, message: 'three scrapes of the sent counter' },
    );
    expect(counts.every((v, i) => i === 0 || v >= (counts[i - 1] as number))).toBe(true);
    expect(new Set(counts.map((v) => (v - 100) % 10))).toEqual(new Set([0]));
    expect(new Set(await overTime('baton_group:baton_consumer_lag:sum'))).toEqual(new Set(['12']));
    const p95 = await value('baton_group:baton_consumer_time_in_queue_seconds:p95_5m');
    expect(Number(p95.value[1])).toBeGreaterThan(0.25);
    expect(Number(p95.value[1])).toBeLessThanOrEqual(2.5);
    const failed = await value('baton_destination:messaging_client_sent_messages:failed_ratio5m');
    expect(failed.metric).toEqual({
      __name__: 'baton_destination:messaging_client_sent_messages:failed_ratio5m',
      job: 'user_service',
      messaging_system: 'kafka',
      messaging_destination_name: 'user.registered',
    });
    expect(Number(failed.value[1])).toBeGreaterThan(0);
    expect(Number(failed.value[1])).toBeLessThan(1);
  });

  it('evaluates every expression of the rules and the dashboard, each on documented names only', async () => {
    const rules = readRuleFile(RULES);
    const dashboard = readDashboard(DASHBOARD);
    const known = {
      metrics: new Set([...DOCUMENTED_SERIES, ...rules.recorded]),
      labels: DOCUMENTED_LABELS,
    };
    const expressions = [...rules.expressions, ...dashboard.expressions];
    expect(expressions.length).toBeGreaterThan(25);
    for (const { source, expr } of expressions) {
      await expect(prometheus.api.query(expr), source).resolves.toBeInstanceOf(Array);
      expect(unknownNames(expr, known), source).toEqual({ metrics: [], labels: [] });
    }
    expect(dashboard.variableLabels.filter((label) => !DOCUMENTED_LABELS.has(label))).toEqual([]);
  });
});
