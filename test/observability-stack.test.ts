import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DOCUMENTED_LABELS,
  DOCUMENTED_SERIES,
  EXEMPLAR_LABELS,
  repoPath,
} from './prometheus/names.js';
import { promqlUses, readDashboard, readRuleFile, unknownNames } from './prometheus/promql.js';

// The Docker stack cannot run here (no Docker engine): these checks parse its files and
// make sure they agree with each other and with Baton's documented names.
// test/prometheus.test.ts evaluates the same PromQL on a real Prometheus.
const yamlFile = <T>(path: string): T => parse(readFileSync(repoPath(path), 'utf8')) as T;

interface ComposeService {
  image: string;
  command?: string[];
  volumes?: string[];
  ports?: string[];
}
const compose = yamlFile<{ services: Record<string, ComposeService> }>('docker-compose.yml');
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
/** The host path mounted at `target` in a compose service. */
const mountOf = (name: string, target: string): string | undefined =>
  service(name)
    .volumes?.map((volume) => volume.split(':'))
    .find(([, to]) => to === target)?.[0];

interface Pipeline {
  receivers: string[];
  processors?: string[];
  exporters: string[];
}
interface CollectorConfig {
  receivers: Record<string, { protocols?: Record<string, { endpoint?: string }> }>;
  processors: Record<string, unknown>;
  exporters: Record<string, { endpoint?: string; enable_open_metrics?: boolean }>;
  service: { pipelines: Record<string, Pipeline> };
}
const collector = yamlFile<CollectorConfig>('observability/otel-collector/config.yaml');

interface Datasource {
  uid: string;
  type: string;
  url: string;
  jsonData?: { exemplarTraceIdDestinations?: Array<{ name: string; datasourceUid: string }> };
}
const datasources = yamlFile<{ datasources: Datasource[] }>(
  'observability/grafana/provisioning/datasources/baton.yaml',
).datasources;

describe('the Docker stack for Baton', () => {
  it('tags every image with a version, and pins the observability images to a release', () => {
    for (const [name, { image }] of Object.entries(compose.services)) {
      expect(image, name).toMatch(/^[\w./-]+:v?\d+[\w.-]*$/);
    }
    for (const name of ['otel-collector', 'jaeger', 'prometheus', 'grafana']) {
      expect(service(name).image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
    }
  });

  it('mounts only files and folders that exist in the repository', () => {
    const mounts = Object.values(compose.services).flatMap((s) => s.volumes ?? []);
    expect(mounts.length).toBeGreaterThanOrEqual(4);
    for (const mount of mounts) {
      const [from = ''] = mount.split(':');
      expect(existsSync(repoPath(from.replace(/^\.\//, ''))), mount).toBe(true);
    }
  });

  it('runs the Collector with OTLP in, traces to Jaeger and metrics out to Prometheus', () => {
    const otel = service('otel-collector');
    expect(otel.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    const configPath = /^--config=(.+)$/.exec(otel.command?.[0] ?? '')?.[1] ?? '';
    expect(mountOf('otel-collector', configPath)).toBe(
      './observability/otel-collector/config.yaml',
    );
    expect(otel.ports).toEqual(['4317:4317', '4318:4318']);
    expect(collector.receivers.otlp?.protocols?.grpc?.endpoint).toBe('0.0.0.0:4317');
    expect(collector.receivers.otlp?.protocols?.http?.endpoint).toBe('0.0.0.0:4318');

    const { traces, metrics, ...others } = collector.service.pipelines;
    expect(Object.keys(others)).toEqual([]);
    expect(traces?.receivers).toEqual(['otlp']);
    expect(metrics?.receivers).toEqual(['otlp']);
    expect(traces?.exporters.map((e) => collector.exporters[e]?.endpoint)).toEqual(['jaeger:4317']);
    expect(metrics?.exporters).toEqual(['prometheus']);
    expect(collector.exporters.prometheus).toMatchObject({
      endpoint: '0.0.0.0:8889',
      enable_open_metrics: true,
    });
    // Every component a pipeline names is defined.
    for (const pipeline of [traces, metrics]) {
      for (const name of pipeline?.receivers ?? [])
        expect(collector.receivers).toHaveProperty([name]);
      for (const name of pipeline?.processors ?? [])
        expect(collector.processors).toHaveProperty([name]);
      for (const name of pipeline?.exporters ?? [])
        expect(collector.exporters).toHaveProperty([name]);
    }
  });

  it('runs Prometheus with exemplar storage and the shipped rules, scraping the Collector', () => {
    const prometheus = service('prometheus');
    expect(prometheus.command).toContain('--enable-feature=exemplar-storage');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(mountOf('prometheus', '/etc/prometheus')).toBe('./observability/prometheus');
    const config = yamlFile<{
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        honor_labels?: boolean;
        static_configs?: Array<{ targets: string[] }>;
      }>;
    }>('observability/prometheus/prometheus.yml');
    expect(config.rule_files).toEqual(['baton-rules.yml']);
    const scrapesCollector = config.scrape_configs.find((job) =>
      job.static_configs?.some((s) => s.targets.includes('otel-collector:8889')),
    );
    // job and instance come from service.name and service.instance.id only with honor_labels.
    expect(scrapesCollector?.honor_labels).toBe(true);
  });

  it('provisions Grafana with Prometheus exemplars that open the trace in Jaeger', () => {
    const prometheus = datasources.find((d) => d.type === 'prometheus');
    const jaeger = datasources.find((d) => d.type === 'jaeger');
    expect(prometheus?.url).toBe('http://prometheus:9090');
    expect(service('prometheus').ports).toContain('9090:9090');
    expect(jaeger?.url).toBe('http://jaeger:16686');
    expect(prometheus?.jsonData?.exemplarTraceIdDestinations).toEqual([
      { name: 'trace_id', datasourceUid: jaeger?.uid },
    ]);
    expect(EXEMPLAR_LABELS).toContain('trace_id');
    expect(mountOf('grafana', '/etc/grafana/provisioning')).toBe(
      './observability/grafana/provisioning',
    );
    const provider = yamlFile<{ providers: Array<{ options: { path: string } }> }>(
      'observability/grafana/provisioning/dashboards/baton.yaml',
    ).providers[0];
    expect(mountOf('grafana', provider?.options.path ?? '')).toBe(
      './observability/grafana/dashboards',
    );
  });
});

describe("the Grafana dashboard's queries", () => {
  const dashboard = readDashboard(
    repoPath('observability/grafana/dashboards/baton-messaging.json'),
  );
  const recorded = readRuleFile(repoPath('observability/prometheus/baton-rules.yml')).recorded;

  it('use only documented metric names, recording rules and labels', () => {
    const known = {
      metrics: new Set([...DOCUMENTED_SERIES, ...recorded]),
      labels: DOCUMENTED_LABELS,
    };
    expect(dashboard.expressions.length).toBeGreaterThan(10);
    for (const { source, expr } of dashboard.expressions) {
      expect(unknownNames(expr, known), source).toEqual({ metrics: [], labels: [] });
    }
    expect(dashboard.variableLabels.sort()).toEqual([
      'messaging_consumer_group_name',
      'messaging_destination_name',
    ]);
  });

  it('shows throughput, errors, duration and time-in-queue heatmaps with exemplars, and lag', () => {
    const panelsUsing = (name: string) =>
      dashboard.panels.filter((p) =>
        p.targets.some((t) => promqlUses(t.expr).metrics.includes(name)),
      );
    expect(panelsUsing('messaging_client_sent_messages_total').length).toBeGreaterThan(0);
    expect(panelsUsing('messaging_client_consumed_messages_total').length).toBeGreaterThan(0);
    const errorQueries = dashboard.expressions.filter((e) => e.expr.includes('error_type!=""'));
    expect(errorQueries.length).toBeGreaterThan(2);
    for (const histogram of [
      'messaging_process_duration_seconds_bucket',
      'baton_consumer_time_in_queue_seconds_bucket',
    ]) {
      const heatmap = panelsUsing(histogram).find((p) => p.type === 'heatmap');
      expect(heatmap?.targets[0], histogram).toMatchObject({ format: 'heatmap', exemplar: true });
    }
    expect(panelsUsing('baton_consumer_lag').length).toBeGreaterThan(0);
  });

  it('draws the service map as a node graph from the baton_edge: recording rules', () => {
    const graph = dashboard.panels.find((p) => p.type === 'nodeGraph');
    // Grafana's node graph takes the frame with a `source` field as its edges and the other
    // as its nodes; instant tables turn the labels (id, source, target) into those fields.
    expect(graph?.targets.map((t) => [t.refId, t.format, t.instant])).toEqual([
      ['nodes', 'table', true],
      ['edges', 'table', true],
    ]);
    for (const target of graph?.targets ?? []) {
      const uses = promqlUses(target.expr).metrics;
      expect(uses.sort(), target.refId).toEqual([
        'baton_edge:messaging_client_consumed_messages:rate5m',
        'baton_edge:messaging_client_sent_messages:rate5m',
      ]);
      // Each of the `or`ed halves makes every field the node graph needs.
      const halves = target.refId === 'nodes' ? 3 : 2;
      const fields =
        target.refId === 'nodes' ? ['id', 'title', 'subtitle'] : ['id', 'source', 'target'];
      for (const field of fields) {
        // The destination label of label_replace/label_join: right after the first argument.
        const made = target.expr.match(new RegExp(`[)}], "${field}", `, 'g'));
        expect(made?.length, `${target.refId} makes ${field}`).toBeGreaterThanOrEqual(halves);
      }
    }
    const edgeRules = recorded.filter((name) => name.startsWith('baton_edge:'));
    expect(edgeRules.length).toBe(6);
    const table = dashboard.panels.find((p) => p.type === 'table');
    const used = new Set(table?.targets.flatMap((t) => promqlUses(t.expr).metrics));
    for (const rule of edgeRules.filter(
      (name) => name.includes('consumed') || name.includes('p95'),
    )) {
      expect(used, rule).toContain(rule);
    }
  });
});
